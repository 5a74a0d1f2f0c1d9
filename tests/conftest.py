"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL runs when DIGEST_TEST_DATABASE_URL points at a server: the run creates its
own database with a random name and drops it at the end, so runs never see each
other's data.
"""

from __future__ import annotations

import gc
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from digest.config import Settings, load_settings, normalize_database_url
from digest.store.db import Database
from digest.store.models import Base

DATA = Path(__file__).parent / "data"
PG_ENV = "DIGEST_TEST_DATABASE_URL"

# The fake SendGrid API server (real HTTP on 127.0.0.1), for any test that needs it.
pytest_plugins = ["tests.fake_sendgrid"]

# A fixed "now" for tests that need one: Wednesday 25 November 2026, 05:00 UTC.
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    raw = os.environ.get(PG_ENV)
    if not raw:
        yield None
        return
    admin_url = normalize_database_url(raw, Path.cwd())
    name = f"digest_test_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database(pg_url: str | None) -> Iterator[Database | None]:
    """One migrated database per run on the PostgreSQL server, emptied before each test."""
    if pg_url is None:
        yield None
        return
    database = Database(pg_url)
    yield database
    # Connections of engines that tests dropped without disposing go back to
    # their pools when collected; collect now, while the server still has the
    # database, instead of at interpreter exit (a ResourceWarning there).
    gc.collect()
    database.dispose()


def _clear(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if db.engine.dialect.has_table(conn, "apscheduler_jobs"):
            conn.execute(text("DELETE FROM apscheduler_jobs"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with the schema migrated and no rows, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'digest.db'}"
        return
    pg_database: Database | None = request.getfixturevalue("pg_database")
    if pg_database is None:
        pytest.skip(f"{PG_ENV} is not set")
    _clear(pg_database)
    yield pg_database.url
    # Engines a test created (APScheduler's job store, say) can leave pooled
    # connections to be closed by the garbage collector; collect them here,
    # inside this test, rather than at a random later point.
    gc.collect()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Embedded defaults pointed at the test database and a temporary folder."""
    env = {
        "DIGEST__DATABASE__URL": db_url,
        "DIGEST_SECRET_KEY": "test-secret",
    }
    return load_settings(None, environ=env, cwd=tmp_path)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """Embedded defaults on a SQLite file in a temporary folder (for tests that need no PG run)."""
    env = {"DIGEST_SECRET_KEY": "test-secret"}
    return load_settings(None, environ=env, cwd=tmp_path)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Result]:
    """Call `digest ARGS...` in-process, in a temporary folder, with embedded defaults.

    Commands read the time from ``cli.state.clock``, which starts at ``NOW`` (the
    fixtures' reference moment) and ticks from there, so no result depends on the
    machine's date or hour. A test that runs them at another moment sets it with
    ``monkeypatch.setattr(cli.state, "clock", ClockFrom(t))``.
    """
    from digest import cli

    monkeypatch.setattr(cli.state, "clock", ClockFrom(NOW))
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-secret")

    def invoke(*args: str) -> Result:
        cli.state.settings = None
        cli.state.config_path = None
        monkeypatch.setattr(sys, "argv", ["digest", *args])
        code = 0
        try:
            cli.main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def run_on_db(
    run: Callable[..., Result], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """`run`, on the test database of each backend (the one the `db` fixture opens)."""
    monkeypatch.setenv("DIGEST__DATABASE__URL", db_url)
    return run


class ClockFrom:
    """A clock that starts at a chosen instant and then runs at the real pace.

    For commands run "at" a given local time: leases, timeouts and ordering
    still see time pass, but the date and hour are the test's, not the machine's.
    """

    def __init__(self, start: datetime) -> None:
        import time

        self._start = start
        self._t0 = time.monotonic()
        self._monotonic = time.monotonic

    def __call__(self) -> datetime:
        from datetime import timedelta

        return self._start + timedelta(seconds=self._monotonic() - self._t0)
