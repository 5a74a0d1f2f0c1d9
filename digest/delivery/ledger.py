"""The deliveries ledger: every state change of (edition, subscriber), in bulk.

States (digest.store.models.DeliveryStatus)::

    pending ──claim──▶ in_flight ──settle──▶ accepted | failed | uncertain
       ▲                   │                   (or back to pending: not sent)
       └───────────────────┘
    pending ──(unsubscribed, bounced, complained meanwhile)──▶ suppressed
    in_flight, found at start (the run that claimed it died) ──▶ uncertain
    uncertain ──provider event for it──▶ accepted
    uncertain ──operator: resend──▶ pending;  ──skip──▶ failed

Each function is one short transaction with set-based statements, so a
million recipients cost a few thousand statements, not millions.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, and_, exists, func, insert, literal, select, update

from digest.errors import EditionError
from digest.store.db import Database
from digest.store.models import (
    Delivery,
    DeliveryBatch,
    DeliveryStatus,
    Edition,
    ProviderEvent,
    Subscriber,
    SubscriberStatus,
)

# A claim on an edition lasts this long unless renewed (every batch renews it).
LEASE = timedelta(minutes=2)

Resolution = Literal["resend", "skip"]


def _rowcount(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount)


# --------------------------------------------------------------------------- lease


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(owner: str) -> bool:
    """True if ``owner`` was a process on this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(db: Database, edition_id: int, owner: str, now: datetime) -> None:
    """Claim the edition for this run; EditionError if another live run has it.

    A claim left by a process that died (SIGKILL, power loss) is taken over at
    once when that process was on this host, else when it expires.
    """
    with db.session() as session:
        edition = session.get(Edition, edition_id, with_for_update=True)
        if edition is None:
            raise EditionError(f"edition {edition_id} does not exist")
        holder = edition.lease_owner
        if (
            holder
            and holder != owner
            and edition.lease_until is not None
            and edition.lease_until > now
            and not _gone(holder)
        ):
            raise EditionError(
                f"the edition of {edition.newsletter_date} is being sent by another run "
                f"({holder}) until at least {edition.lease_until:%H:%M:%S} UTC",
                hint="wait for it to finish; a stopped run's claim expires after two minutes",
            )
        edition.lease_owner = owner
        edition.lease_until = now + LEASE


def renew(db: Database, edition_id: int, owner: str, now: datetime) -> None:
    with db.session() as session:
        result = session.execute(
            update(Edition)
            .where(Edition.id == edition_id, Edition.lease_owner == owner)
            .values(lease_until=now + LEASE)
        )
        if _rowcount(result) == 0:
            raise EditionError(
                "another run took over this edition while it was being sent; stopping",
                hint="run `digest status` to see where it stands",
            )


def release(db: Database, edition_id: int, owner: str) -> None:
    with db.session() as session:
        session.execute(
            update(Edition)
            .where(Edition.id == edition_id, Edition.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


# --------------------------------------------------------------------------- start of a run


def recover(db: Database, edition_id: int, now: datetime) -> int:
    """In-flight rows found while we hold the lease belong to a run that died: uncertain."""
    with db.session() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.IN_FLIGHT)
            .values(
                status=DeliveryStatus.UNCERTAIN,
                error="the run sending it stopped while its request was under way",
                updated_at=now,
            )
        )
        session.execute(
            update(DeliveryBatch)
            .where(DeliveryBatch.edition_id == edition_id, DeliveryBatch.status == "in_flight")
            .values(status="uncertain", settled_at=now)
        )
        return _rowcount(result)


def resolve_by_events(db: Database, edition_id: int | None, now: datetime) -> int:
    """Uncertain rows for which the provider reported any event did reach it: accepted."""
    heard = exists().where(
        ProviderEvent.edition_id == Delivery.edition_id,
        ProviderEvent.subscriber_id == Delivery.subscriber_id,
    )
    conditions = [Delivery.status == DeliveryStatus.UNCERTAIN, heard]
    if edition_id is not None:
        conditions.append(Delivery.edition_id == edition_id)
    with db.session() as session:
        result = session.execute(
            update(Delivery)
            .where(and_(*conditions))
            .values(status=DeliveryStatus.ACCEPTED, error=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)


def resolve_by_operator(db: Database, edition_id: int, how: Resolution, now: datetime) -> int:
    """`--resolve-uncertain resend|skip`: the operator decides what the ledger cannot."""
    values: dict[str, Any] = (
        {"status": DeliveryStatus.PENDING, "batch_id": None, "error": None}
        if how == "resend"
        else {
            "status": DeliveryStatus.FAILED,
            "error": "skipped by the operator (may have arrived)",
        }
    )
    with db.session() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.UNCERTAIN)
            .values(**values, updated_at=now)
        )
        return _rowcount(result)


def enqueue(db: Database, edition_id: int, backend: str, now: datetime) -> int:
    """One pending row for every active subscriber who has none for this edition yet."""
    already = exists().where(
        Delivery.edition_id == edition_id, Delivery.subscriber_id == Subscriber.id
    )
    source = select(
        literal(edition_id),
        Subscriber.id,
        literal(str(DeliveryStatus.PENDING)),
        literal(backend),
        literal(0),
        literal(now, Delivery.created_at.type),
        literal(now, Delivery.updated_at.type),
    ).where(Subscriber.status == SubscriberStatus.ACTIVE, ~already)
    with db.session() as session:
        result = session.execute(
            insert(Delivery).from_select(
                [
                    "edition_id",
                    "subscriber_id",
                    "status",
                    "backend",
                    "attempts",
                    "created_at",
                    "updated_at",
                ],
                source,
            )
        )
        return max(_rowcount(result), 0)


# --------------------------------------------------------------------------- the batch loop


@dataclass(frozen=True)
class PendingRow:
    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    language: str | None
    status: str
    delivery_time: str | None
    timezone: str | None


def pending_page(db: Database, edition_id: int, after: int, limit: int) -> list[PendingRow]:
    """The next pending rows after delivery id ``after``, with what sending needs."""
    query = (
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
            Delivery.edition_id == edition_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.id > after,
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    with db.session() as session:
        return [PendingRow(*row) for row in session.execute(query)]


def suppress(db: Database, delivery_ids: Sequence[int], now: datetime) -> None:
    if not delivery_ids:
        return
    with db.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.PENDING)
            .values(
                status=DeliveryStatus.SUPPRESSED,
                error="unsubscribed, bounced or complained before it was sent",
                updated_at=now,
            )
        )


def claim(
    db: Database, edition_id: int, backend: str, delivery_ids: Sequence[int], now: datetime
) -> tuple[int, set[int], int]:
    """Record the batch before its request leaves.

    Returns (batch id, the rows claimed, how many were suppressed instead). The
    subscriber's status is checked in the same transaction, so someone who
    left a moment ago is not sent to, even in an edition already going out.
    """
    left = exists().where(
        Subscriber.id == Delivery.subscriber_id, Subscriber.status != SubscriberStatus.ACTIVE
    )
    with db.session() as session:
        suppressed = _rowcount(
            session.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.PENDING, left
                )
                .values(
                    status=DeliveryStatus.SUPPRESSED,
                    error="unsubscribed, bounced or complained before it was sent",
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        )
        batch = DeliveryBatch(
            edition_id=edition_id,
            backend=backend,
            status="in_flight",
            size=len(delivery_ids),
            created_at=now,
        )
        session.add(batch)
        session.flush()
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.PENDING)
            .values(
                status=DeliveryStatus.IN_FLIGHT,
                batch_id=batch.id,
                attempts=Delivery.attempts + 1,
                updated_at=now,
            )
        )
        claimed = set(
            session.scalars(
                select(Delivery.id).where(
                    Delivery.batch_id == batch.id, Delivery.status == DeliveryStatus.IN_FLIGHT
                )
            )
        )
        batch.size = len(claimed)
        return batch.id, claimed, suppressed


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
    """Write a batch's outcome in one transaction."""
    with db.session() as session:
        by_message_id: dict[str | None, list[int]] = {}
        for delivery_id, message_id in accepted.items():
            by_message_id.setdefault(message_id, []).append(delivery_id)
        for message_id, ids in by_message_id.items():
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    status=DeliveryStatus.ACCEPTED,
                    provider_message_id=message_id,
                    error=None,
                    updated_at=now,
                )
            )
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
        session.execute(
            update(DeliveryBatch)
            .where(DeliveryBatch.id == batch_id)
            .values(
                status="uncertain" if uncertain else "done",
                settled_at=now,
                provider_message_id=next(iter(by_message_id), None),
                error=errors[0][:2000] if errors else None,
            )
        )


def _bulk_update(session: Any, rows: Iterable[dict[str, Any]]) -> None:
    # Rows differ in their keys (batch_id only for pending ones): group by key set
    # so each group is one executemany "UPDATE ... WHERE id = ?".
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(update(Delivery), group)


# --------------------------------------------------------------------------- reporting


def counts(db: Database, edition_id: int) -> dict[str, int]:
    """Recipients per ledger state for one edition (every state present, zeros included)."""
    with db.session() as session:
        rows = session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.edition_id == edition_id)
            .group_by(Delivery.status)
        ).all()
    found = {str(status): int(count) for status, count in rows}
    return {str(state): found.get(str(state), 0) for state in DeliveryStatus}
