"""The daily job under APScheduler 3.

Two jobs with fixed ids: ``daily-digest`` at ``schedule.send_time`` in the
newsletter's time zone, and ``catch-up`` every 15 minutes for subscribers who
chose a later delivery time and for retries. Their state is in the database (so a restart keeps the
next run time and a run missed while the scheduler was down still happens within
``schedule.misfire_grace``). The job only calls :func:`digest.pipeline.send`,
which is idempotent: running it twice for a day sends nothing the second time.
"""

from __future__ import annotations

import logging
import signal
from datetime import timedelta
from pathlib import Path
from types import FrameType

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from digest import editions, pipeline
from digest.config import Settings, load_settings
from digest.errors import DigestError
from digest.pipeline import Clock
from digest.store.models import Edition, EditionStatus

JOB_ID = "daily-digest"
CATCH_UP_JOB_ID = "catch-up"
CATCH_UP_EVERY_MINUTES = 15
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
        if report.edition_skipped:
            log.warning("edition %s skipped, thin day: %s", today, report.thin_day)
            return
        if report.thin_day:
            log.warning("edition %s shortened, thin day: %s", today, report.thin_day)
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


def catch_up_job(config_path: str | None, *, clock: Clock = pipeline.utc_now) -> None:
    """Continue editions still going out: later delivery times, and failed recipients.

    Only editions that the daily job already froze (today's and yesterday's) are
    touched; this job never starts an edition early.
    """
    try:
        settings = load_settings(Path(config_path) if config_path else None)
        db = pipeline.open_database(settings)
    except DigestError as err:
        log.error("catch-up not run: %s", err)
        return
    try:
        today = editions.local_date(clock(), settings)
        with db.session() as session:
            dates = list(
                session.scalars(
                    select(Edition.newsletter_date).where(
                        Edition.status == EditionStatus.SENDING,
                        Edition.newsletter_date >= today - timedelta(days=1),
                    )
                )
            )
        for newsletter_date in sorted(dates):
            report = pipeline.send(db, settings, newsletter_date, clock=clock)
            if report.sent or report.failed:
                log.info(
                    "edition %s catch-up: %d sent, %d failed, %d still waiting",
                    newsletter_date,
                    report.sent,
                    report.failed,
                    report.waiting,
                )
    except DigestError as err:
        log.error("catch-up failed: %s", err)
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
    args = [str(config_path.resolve()) if config_path else None]
    scheduler.add_job(
        daily_job,
        trigger(settings),
        id=JOB_ID,
        name=f"{settings.newsletter.name} daily digest",
        args=args,
        replace_existing=True,
    )
    scheduler.add_job(
        catch_up_job,
        CronTrigger(minute=f"*/{CATCH_UP_EVERY_MINUTES}", timezone=settings.newsletter.tz),
        id=CATCH_UP_JOB_ID,
        name=f"{settings.newsletter.name} later deliveries and retries",
        args=args,
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
