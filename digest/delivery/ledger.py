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
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

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
    UTCDateTime,
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


_RENEW = (
    update(Edition)
    .where(Edition.id == bindparam("edition_id"), Edition.lease_owner == bindparam("owner"))
    .values(lease_until=bindparam("until", type_=UTCDateTime()))
)


def renew(db: Database, edition_id: int, owner: str, now: datetime) -> None:
    """Extend this run's lease; EditionError if another run took the edition over."""
    with db.session() as session:
        renew_on(session.connection(), edition_id, owner, now)


def renew_on(connection: Connection, edition_id: int, owner: str, now: datetime) -> None:
    """:func:`renew` inside a transaction of the caller's (a claim's)."""
    parameters = {"edition_id": edition_id, "owner": owner, "until": now + LEASE}
    if _rowcount(connection.execute(_RENEW, parameters)) == 0:
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


# Queued rows beyond which PostgreSQL's statistics are refreshed (see enqueue).
ANALYZE_AFTER = 10_000


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
            insert(Delivery)
            .from_select(
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
            .execution_options(preserve_rowcount=True)
        )
        queued = max(_rowcount(result), 0)
    if queued >= ANALYZE_AFTER and db.engine.dialect.name == "postgresql":
        # Until autovacuum gets to it, the planner believes the edition's rows
        # are not there: it would read each page by sorting every pending row
        # and find each claim's rows through the status index, which makes a
        # large send quadratic. A few hundred milliseconds of sampling now.
        with db.session() as session:
            session.execute(text("ANALYZE deliveries"))
    return queued


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
