"""Transactions behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from digest import subscribers
from digest.store.db import Database

from .conftest import NOW


def test_a_savepoint_rolls_back_with_its_transaction(db: Database) -> None:
    # On SQLite the driver used to commit an outer SAVEPOINT on its own.
    with pytest.raises(RuntimeError), db.session() as session:
        with session.begin_nested():
            subscribers.add(session, "kept@example.com", now=NOW)
        raise RuntimeError("the outer transaction fails")
    with db.session() as session:
        assert subscribers.find(session, "kept@example.com") is None


def test_foreign_keys_are_enforced(db: Database) -> None:
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            conn.execute(
                text(
                    "INSERT INTO subscriber_events (subscriber_id, occurred_at, kind, detail) "
                    "VALUES (424242, '2026-11-25 00:00:00', 'x', '{}')"
                )
            )
