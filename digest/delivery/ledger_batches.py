"""The send loop's side of the ledger: pages of pending rows, claims, settlements.

These run once per page or batch, so a few thousand times per edition of a
million recipients: each is one short transaction of set-based statements,
built once with bound parameters (SQLAlchemy then compiles them once too) and
run on the session's connection (the ORM's bookkeeping for bulk updates costs
milliseconds per batch, and nothing here needs it). The states they move rows
between are described in :mod:`digest.delivery.ledger`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import BindParameter, CursorResult, bindparam, insert, null, select, update

from digest.delivery.ledger import renew_on
from digest.errors import DeliveryError
from digest.store.db import Database
from digest.store.models import (
    Delivery,
    DeliveryBatch,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
    UTCDateTime,
)


def _rowcount(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount)


class PendingRow(NamedTuple):
    """A pending ledger row with what sending needs (a tuple: one per recipient)."""

    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    language: str | None
    status: str
    delivery_time: str | None
    timezone: str | None
    # Read only for editions with personalized variants (see pending_page).
    topics: list[str] | None = None
    muted_sources: list[str] | None = None


_NOW = bindparam("now", type_=UTCDateTime())
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_LEFT_ERROR = "unsubscribed, bounced or complained before it was sent"

_PENDING_PAGE = (
    select(
        Delivery.id,
        Delivery.subscriber_id,
        Subscriber.email,
        Subscriber.name,
        Subscriber.language,
        Subscriber.status,
        Subscriber.delivery_time,
        Subscriber.timezone,
    )
    .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
    .where(
        Delivery.edition_id == bindparam("edition_id"),
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.id > bindparam("after"),
    )
    .order_by(Delivery.id)
    .limit(bindparam("limit"))
)
_PENDING_PAGE_WITH_PREFERENCES = _PENDING_PAGE.add_columns(
    Subscriber.topics, Subscriber.muted_sources
)
# Without them the database returns two NULLs, which costs less than
# building each row's tuple again here.
_PENDING_PAGE_PLAIN = _PENDING_PAGE.add_columns(
    null().label("topics"), null().label("muted_sources")
)

_SUPPRESS = (
    update(Delivery)
    .where(Delivery.id.in_(_IDS), Delivery.status == DeliveryStatus.PENDING)
    .values(status=DeliveryStatus.SUPPRESSED, error=_LEFT_ERROR, updated_at=_NOW)
)

_NEW_BATCH = insert(DeliveryBatch).returning(DeliveryBatch.id)

_CLAIM = (
    update(Delivery)
    .where(
        Delivery.id.in_(_IDS),
        Delivery.status == DeliveryStatus.PENDING,
        # Checked in the claim's own transaction: someone who left a moment
        # ago is not sent to, even in an edition already going out. A scalar
        # subquery, so that every planner looks each subscriber up by key
        # (PostgreSQL turns NOT EXISTS into a scan of every subscriber).
        select(Subscriber.status).where(Subscriber.id == Delivery.subscriber_id).scalar_subquery()
        == SubscriberStatus.ACTIVE,
    )
    .values(
        status=DeliveryStatus.IN_FLIGHT,
        batch_id=bindparam("batch"),
        attempts=Delivery.attempts + 1,
        updated_at=_NOW,
    )
)

_CLAIMED = select(Delivery.id).where(
    Delivery.batch_id == bindparam("batch"), Delivery.status == DeliveryStatus.IN_FLIGHT
)

_BATCH_SIZE = (
    update(DeliveryBatch)
    .where(DeliveryBatch.id == bindparam("batch"))
    .values(size=bindparam("claimed"))
)

_ACCEPT_BATCH = (
    update(Delivery)
    .where(Delivery.batch_id == bindparam("batch"), Delivery.status == DeliveryStatus.IN_FLIGHT)
    .values(
        status=DeliveryStatus.ACCEPTED,
        provider_message_id=bindparam("message"),
        error=None,
        updated_at=_NOW,
    )
)

_ACCEPT_IDS = (
    update(Delivery)
    .where(Delivery.id.in_(_IDS))
    .values(
        status=DeliveryStatus.ACCEPTED,
        provider_message_id=bindparam("message"),
        error=None,
        updated_at=_NOW,
    )
)

_SETTLE_BATCH = (
    update(DeliveryBatch)
    .where(DeliveryBatch.id == bindparam("batch"))
    .values(
        status=bindparam("state"),
        settled_at=_NOW,
        provider_message_id=bindparam("message"),
        error=bindparam("problem"),
    )
)


def pending_page(
    db: Database, edition_id: int, after: int, limit: int, *, preferences: bool = False
) -> list[PendingRow]:
    """The next pending rows after delivery id ``after``, with what sending needs.

    ``preferences`` adds the subscribers' topics and muted sources (two JSON
    columns to decode per row: only for editions with personalized variants).
    """
    parameters = {"edition_id": edition_id, "after": after, "limit": limit}
    query = _PENDING_PAGE_WITH_PREFERENCES if preferences else _PENDING_PAGE_PLAIN
    with db.session() as session:
        rows = session.connection().execute(query, parameters)
        return list(map(PendingRow._make, rows))


def suppress(db: Database, delivery_ids: Sequence[int], now: datetime) -> None:
    if not delivery_ids:
        return
    with db.session() as session:
        session.connection().execute(_SUPPRESS, {"ids": list(delivery_ids), "now": now})


def claim(
    db: Database,
    edition_id: int,
    backend: str,
    delivery_ids: Sequence[int],
    now: datetime,
    *,
    owner: str,
) -> tuple[int, set[int], int]:
    """Record the batch before its request leaves, and renew the run's lease.

    Returns (batch id, the rows claimed, how many were suppressed instead). The
    subscriber's status is checked in the same transaction, so someone who
    left a moment ago is not sent to. Raises EditionError, claiming nothing,
    when another run took the edition over.
    """
    ids = list(delivery_ids)
    with db.session() as session:
        connection = session.connection()
        renew_on(connection, edition_id, owner, now)
        batch_id = connection.execute(
            _NEW_BATCH,
            {
                "edition_id": edition_id,
                "backend": backend,
                "status": "in_flight",
                "size": len(ids),
                "created_at": now,
            },
        ).scalar_one()
        parameters = {"ids": ids, "batch": batch_id, "now": now}
        if _rowcount(connection.execute(_CLAIM, parameters)) == len(ids):
            return batch_id, set(ids), 0
        claimed = set(connection.execute(_CLAIMED, {"batch": batch_id}).scalars())
        # The rows of the batch still pending belong to subscribers who left.
        suppressed = _rowcount(connection.execute(_SUPPRESS, parameters))
        connection.execute(_BATCH_SIZE, {"batch": batch_id, "claimed": len(claimed)})
        return batch_id, claimed, suppressed


def settle(
    db: Database,
    batch_id: int,
    *,
    accepted: Mapping[int, str | None],
    failed: Mapping[int, str],
    retry: Mapping[int, str],
    uncertain: Mapping[int, str],
    now: datetime,
) -> None:
    """Write a batch's outcome in one transaction.

    Every row the batch claimed must appear in exactly one of the four maps
    (as in :class:`digest.delivery.base.BatchOutcome`).
    """
    by_message_id: dict[str | None, list[int]] = {}
    for delivery_id, message_id in accepted.items():
        by_message_id.setdefault(message_id, []).append(delivery_id)
    with db.session() as session:
        connection = session.connection()
        if len(by_message_id) == 1 and not (failed or retry or uncertain):
            # The usual case, one request taken whole: every row the batch
            # claimed, found by its batch id rather than a thousand ids.
            ((message_id, ids),) = by_message_id.items()
            parameters = {"batch": batch_id, "message": message_id, "now": now}
            done = _rowcount(connection.execute(_ACCEPT_BATCH, parameters))
            if done != len(ids):
                # Rolls back: the rows stay in flight, so the next run makes
                # them uncertain instead of this one marking the wrong ones sent.
                raise DeliveryError(
                    f"batch {batch_id} has {done} rows in flight but {len(ids)} were "
                    "accepted; the ledger changed under the running send",
                    hint="run `digest status` to see where the edition stands",
                )
        else:
            for message_id, ids in by_message_id.items():
                connection.execute(_ACCEPT_IDS, {"ids": ids, "message": message_id, "now": now})
        rows: list[dict[str, Any]] = []
        for status, outcome in (
            (DeliveryStatus.FAILED, failed),
            (DeliveryStatus.UNCERTAIN, uncertain),
            (DeliveryStatus.PENDING, retry),
        ):
            for delivery_id, error in outcome.items():
                row: dict[str, Any] = {
                    "id": delivery_id,
                    "status": str(status),
                    "error": error[:2000],
                    "updated_at": now,
                }
                if status == DeliveryStatus.PENDING:
                    row["batch_id"] = None
                rows.append(row)
        _bulk_update(session, rows)
        errors = list(failed.values()) + list(uncertain.values()) + list(retry.values())
        connection.execute(
            _SETTLE_BATCH,
            {
                "batch": batch_id,
                "state": "uncertain" if uncertain else "done",
                "now": now,
                "message": next(iter(by_message_id), None),
                "problem": errors[0][:2000] if errors else None,
            },
        )


def _bulk_update(session: Any, rows: Iterable[dict[str, Any]]) -> None:
    # Rows differ in their keys (batch_id only for pending ones): group by key set
    # so each group is one executemany "UPDATE ... WHERE id = ?".
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(update(Delivery), group)
