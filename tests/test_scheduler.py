from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from digest.config import Settings
from digest.scheduler import CATCH_UP_JOB_ID, JOB_ID, JOBS_TABLE, configure, trigger
from digest.store.db import Database

from .conftest import NOW


def test_trigger_fires_at_send_time_in_the_newsletter_zone(sqlite_settings: Settings) -> None:
    fire = trigger(sqlite_settings)
    # 05:00 UTC is 06:00 in Berlin: the next send is 06:30 Berlin the same day.
    now = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    nxt = fire.get_next_fire_time(None, now)
    assert nxt is not None
    assert nxt.astimezone(UTC) == datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
    # Summer time: 06:30 Berlin is 04:30 UTC.
    summer = fire.get_next_fire_time(None, datetime(2026, 7, 1, 0, 0, tzinfo=UTC))
    assert summer is not None and summer.astimezone(UTC) == datetime(2026, 7, 1, 4, 30, tzinfo=UTC)


def test_job_is_stored_in_the_database_once_with_a_fixed_id(settings: Settings) -> None:
    Database(settings.database_url).dispose()
    for _ in range(2):  # starting twice must not add a second job
        scheduler = BackgroundScheduler()
        configure(scheduler, settings, Path("/etc/digest/config.yaml"))
        scheduler.start(paused=True)
        jobs = [job for job in scheduler.get_jobs() if job.id == JOB_ID]
        assert sorted(job.id for job in scheduler.get_jobs()) == [CATCH_UP_JOB_ID, JOB_ID]
        assert jobs[0].misfire_grace_time == int(settings.schedule.misfire_grace.total_seconds())
        assert jobs[0].args == ("/etc/digest/config.yaml",)
        store = scheduler._lookup_jobstore("default")
        scheduler.shutdown()
        # BackgroundScheduler's thread looks for jobs once more after shutdown
        # disposed the store's engine; dispose again so that connection closes.
        store.engine.dispose()
    store = SQLAlchemyJobStore(url=settings.database_url, tablename=JOBS_TABLE)
    store.start(BackgroundScheduler(), "default")
    try:
        stored = store.get_all_jobs()
        assert sorted(job.id for job in stored) == [CATCH_UP_JOB_ID, JOB_ID]
        assert all(job.next_run_time is not None for job in stored)
    finally:
        store.shutdown()


def test_digest_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = os.environ | {"DIGEST_SECRET_KEY": "x"}
    env.pop("DIGEST_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "digest", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "Scheduler started: daily at 06:30 Europe/Berlin" in line
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "Scheduler stopped." in stdout
    assert "Traceback" not in stderr


def test_daily_job_sends_todays_edition_once(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from digest import ingest, samples, subscribers
    from digest.scheduler import daily_job

    config = tmp_path / "site" / "config.yaml"
    config.parent.mkdir()
    config.write_text(f"database:\n  url: {settings.database.url}\n", encoding="utf-8")
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-secret")
    db = Database(settings.database_url)
    try:
        files = samples.write_samples(tmp_path / "src", now=NOW, base_url="http://127.0.0.1:8000")
        ingest.ingest([str(f) for f in files], db, now=NOW, default_tz=settings.newsletter.tz)
        with db.session() as session:
            subscribers.import_csv(session, samples.subscribers_csv(), now=NOW)
    finally:
        db.dispose()
    caplog.set_level(logging.INFO, logger="digest.scheduler")
    send_moment = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)  # 06:30 in Berlin
    daily_job(str(config), clock=lambda: send_moment)
    outbox = config.parent / "var" / "outbox" / "2026-11-25"
    assert len(list(outbox.glob("*.eml"))) == 3
    assert "edition 2026-11-25: 3 sent" in caplog.text
    daily_job(str(config), clock=lambda: send_moment)
    assert "edition 2026-11-25: 0 sent, 3 already had it" in caplog.text


def test_daily_job_logs_errors_instead_of_raising(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from digest.scheduler import daily_job

    caplog.set_level(logging.ERROR, logger="digest.scheduler")
    daily_job(str(tmp_path / "missing.yaml"))
    assert "daily digest not sent" in caplog.text and "does not exist" in caplog.text


def test_catch_up_delivers_later_delivery_times(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest import ingest, samples, subscribers
    from digest.scheduler import catch_up_job, daily_job

    config = tmp_path / "site" / "config.yaml"
    config.parent.mkdir()
    config.write_text(f"database:\n  url: {settings.database.url}\n", encoding="utf-8")
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-secret")
    db = Database(settings.database_url)
    try:
        files = samples.write_samples(tmp_path / "src", now=NOW, base_url="http://127.0.0.1:8000")
        ingest.ingest([str(f) for f in files], db, now=NOW, default_tz=settings.newsletter.tz)
        with db.session() as session:
            subscribers.import_csv(session, samples.subscribers_csv(), now=NOW)
            late = subscribers.find(session, "anna.beispiel@example.com")
            assert late is not None
            late.delivery_time = "09:00"
    finally:
        db.dispose()
    outbox = config.parent / "var" / "outbox" / "2026-11-25"
    # Before the daily job froze the edition, catch-up does nothing.
    catch_up_job(str(config), clock=lambda: NOW)
    assert not outbox.exists()
    daily_job(str(config), clock=lambda: datetime(2026, 11, 25, 5, 30, tzinfo=UTC))
    assert len(list(outbox.glob("*.eml"))) == 2
    catch_up_job(str(config), clock=lambda: datetime(2026, 11, 25, 7, 45, tzinfo=UTC))
    assert len(list(outbox.glob("*.eml"))) == 2
    catch_up_job(str(config), clock=lambda: datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert len(list(outbox.glob("*.eml"))) == 3
