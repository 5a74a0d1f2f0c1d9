"""The daily job under APScheduler 3.

One job with a fixed id, a cron trigger at ``schedule.send_time`` in the
newsletter's time zone, and its state in the database (so a restart keeps the
next run time and a run missed while the scheduler was down still happens within
``schedule.misfire_grace``). The job only calls :func:`digest.pipeline.send`,
which is idempotent: running it twice for a day sends nothing the second time.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from digest import editions, pipeline
from digest.config import Settings, load_settings
from digest.errors import DigestError
from digest.pipeline import Clock

JOB_ID = "daily-digest"
JOBS_TABLE = "apscheduler_jobs"

log = logging.getLogger("digest.scheduler")


def daily_job(config_path: str | None, *, clock: Clock = pipeline.utc_now) -> None:
    """Send today's edition. Reloads the config so edits apply from the next run.

    Errors are logged, never raised: the scheduler must survive a bad day.
    """
    try:
        settings = load_settings(Path(config_path) if config_path else None)
        db = pipeline.open_database(settings)
    except DigestError as err:
        log.error("daily digest not sent: %s", err)
        return
    try:
        today = editions.local_date(clock(), settings)
        report = pipeline.send(db, settings, today, clock=clock)
        log.info(
            "edition %s: %d sent, %d already had it, %d failed, %d uncertain",
            today,
            report.sent,
            report.already_sent,
            report.failed,
            report.uncertain,
        )
    except DigestError as err:
        log.error("daily digest not sent: %s", err)
    finally:
        db.dispose()


def trigger(settings: Settings) -> CronTrigger:
    send_time = settings.schedule.send_time
    return CronTrigger(
        hour=send_time.hour, minute=send_time.minute, timezone=settings.newsletter.tz
    )


def configure(scheduler: BaseScheduler, settings: Settings, config_path: Path | None) -> None:
    """Attach the persistent job store and (re)register the daily job."""
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename=JOBS_TABLE)},
        timezone=settings.newsletter.tz,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(settings.schedule.misfire_grace.total_seconds()),
        },
    )
    scheduler.add_job(
        daily_job,
        trigger(settings),
        id=JOB_ID,
        name=f"{settings.newsletter.name} daily digest",
        args=[str(config_path.resolve()) if config_path else None],
        replace_existing=True,
    )


def run(settings: Settings, config_path: Path | None) -> None:
    """Block until Ctrl-C or SIGTERM, then shut down cleanly (a running send finishes first)."""
    scheduler = BlockingScheduler()
    configure(scheduler, settings, config_path)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping the scheduler", signal.Signals(signum).name)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
