"""The send loop and its ledger: the same guarantees for every backend.

For each active subscriber the ledger row for (edition, subscriber) is claimed
*before* the message leaves (status ``sending``, committed), and settled after
(``sent`` or ``failed``). Consequences:

* a second run skips everyone already ``sent``: the same edition is never
  delivered twice, and says so;
* ``failed`` rows (the backend refused or could not be reached) are retried by
  the next run;
* a row left in ``sending`` means the process died while handing the message
  over: it may or may not have gone out, so it is reported and never resent
  blindly;
* the claim is a unique insert or a conditional update, so two processes
  sending the same edition at once cannot both send to one subscriber;
* the subscriber's status is re-read in the claiming transaction, so someone
  who unsubscribes while an edition is going out gets nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, select, update
from sqlalchemy.exc import IntegrityError

from digest.config import Settings
from digest.delivery.base import Backend
from digest.delivery.compose import Recipient, compose
from digest.editions import due_at, variant_key, variants_of
from digest.errors import DeliveryAuthError, DeliveryError
from digest.render import RenderedEdition
from digest.store.db import Database
from digest.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Subscriber,
    SubscriberStatus,
)
from digest.tokens import TokenSigner

Progress = Callable[[int, int], None]
"""Called with (done, total) after each recipient."""


@dataclass
class SendReport:
    newsletter_date: date
    edition_id: int | None
    subject: str
    items: int
    # Active subscribers at the start of the run.
    audience: int = 0
    sent: int = 0
    already_sent: int = 0
    failed: int = 0
    # Claimed by an earlier run that died mid-handover: may or may not have gone out.
    uncertain: int = 0
    # Unsubscribed or bounced while this run was under way.
    skipped: int = 0
    # Chose a later delivery time: they get it from a later run (`digest run` does that).
    waiting: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Nothing failed and nothing is left to resolve (waiting recipients are on schedule)."""
        return self.failed == 0 and self.uncertain == 0


def _ledger_counts(db: Database, edition_id: int) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.edition_id == edition_id)
            .group_by(Delivery.status)
        ).all()
    return {status: count for status, count in rows}


def _to_send(db: Database, edition_id: int) -> list[tuple[int, str | None, str | None]]:
    """Active subscribers with no ledger row, or a failed one, in a stable order.

    With each: their chosen delivery time and time zone.
    """
    settled = select(Delivery.subscriber_id).where(
        Delivery.edition_id == edition_id,
        Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.SENDING]),
    )
    query = (
        select(Subscriber.id, Subscriber.delivery_time, Subscriber.timezone)
        .where(Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.id.not_in(settled))
        .order_by(Subscriber.id)
    )
    with db.session() as session:
        return [(row[0], row[1], row[2]) for row in session.execute(query)]


def _claim(
    db: Database, edition_id: int, subscriber_id: int, backend: str, now: datetime
) -> Recipient | None:
    """Record that this run is about to send; None if someone else has it or it left the list."""
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.status != SubscriberStatus.ACTIVE:
            return None
        retry = session.execute(
            update(Delivery)
            .where(
                and_(
                    Delivery.edition_id == edition_id,
                    Delivery.subscriber_id == subscriber_id,
                    Delivery.status == DeliveryStatus.FAILED,
                )
            )
            .values(
                status=DeliveryStatus.SENDING,
                attempts=Delivery.attempts + 1,
                updated_at=now,
                backend=backend,
            )
        )
        if cast("CursorResult[Any]", retry).rowcount == 0:
            exists = session.scalar(
                select(Delivery.id).where(
                    Delivery.edition_id == edition_id, Delivery.subscriber_id == subscriber_id
                )
            )
            if exists is not None:
                return None
            session.add(
                Delivery(
                    edition_id=edition_id,
                    subscriber_id=subscriber_id,
                    status=DeliveryStatus.SENDING,
                    backend=backend,
                    attempts=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            try:
                session.flush()
            except IntegrityError:
                # Another process claimed it between our check and our insert.
                session.rollback()
                return None
        return Recipient(
            id=subscriber.id,
            email=subscriber.email,
            name=subscriber.name,
            language=subscriber.language,
        )


def _settle(
    db: Database,
    edition_id: int,
    subscriber_id: int,
    status: DeliveryStatus,
    now: datetime,
    *,
    provider_id: str | None = None,
    error: str | None = None,
) -> None:
    with db.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.edition_id == edition_id, Delivery.subscriber_id == subscriber_id)
            .values(status=status, provider_message_id=provider_id, error=error, updated_at=now)
        )


def deliver(
    db: Database,
    settings: Settings,
    edition_id: int,
    backend: Backend,
    *,
    signer: TokenSigner,
    clock: Callable[[], datetime],
    progress: Progress | None = None,
) -> SendReport:
    """Send a frozen edition to every active subscriber who does not have it yet.

    Raises DeliveryAuthError (after recording nothing as sent) when the provider
    refuses the credentials; any other delivery error is recorded per recipient.
    """
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is None or edition.frozen_at is None:
            raise DeliveryError(f"edition {edition_id} is not frozen; plan and freeze it first")
        variants = variants_of(edition)
        default = variant_key(variants, settings.newsletter.language, settings.newsletter.language)
        newsletter_date = edition.newsletter_date
        report = SendReport(
            newsletter_date, edition.id, variants[default].subject, len(edition.items)
        )
        report.audience = (
            session.scalar(select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE))
            or 0
        )

    before = _ledger_counts(db, edition_id)
    report.already_sent = before.get(DeliveryStatus.SENT, 0)
    report.uncertain = before.get(DeliveryStatus.SENDING, 0)
    pending = _to_send(db, edition_id)
    total = len(pending)
    with backend:
        for done, (subscriber_id, delivery_time, timezone) in enumerate(pending, start=1):
            now = clock()
            due = due_at(newsletter_date, delivery_time, timezone, settings)
            if due is not None and now < due:
                report.waiting += 1
            else:
                _send_one(
                    db, settings, backend, report, variants, default, subscriber_id, signer, clock
                )
            if progress is not None:
                progress(done, total)

    if report.complete and report.waiting == 0:
        with db.session() as session:
            edition = session.get(Edition, edition_id)
            if edition is not None and edition.status != EditionStatus.SENT:
                edition.status = EditionStatus.SENT
                edition.sent_at = clock()
    return report


def _send_one(
    db: Database,
    settings: Settings,
    backend: Backend,
    report: SendReport,
    variants: dict[str, RenderedEdition],
    default: str,
    subscriber_id: int,
    signer: TokenSigner,
    clock: Callable[[], datetime],
) -> None:
    """Claim, send and settle one recipient, counting the outcome in ``report``."""
    assert report.edition_id is not None
    edition_id = report.edition_id
    now = clock()
    recipient = _claim(db, edition_id, subscriber_id, backend.name, now)
    if recipient is None:
        report.skipped += 1
        return
    rendered = variants[variant_key(variants, recipient.language, default)]
    message = compose(
        settings,
        signer,
        rendered,
        recipient,
        edition_id=edition_id,
        newsletter_date=report.newsletter_date,
        now=now,
    )
    try:
        result = backend.send(message)
    except DeliveryAuthError as err:
        _settle(db, edition_id, subscriber_id, DeliveryStatus.FAILED, clock(), error=err.message)
        raise
    except DeliveryError as err:
        if err.uncertain:
            # Stays "sending": it may have gone out, so no run resends it.
            _settle(
                db, edition_id, subscriber_id, DeliveryStatus.SENDING, clock(), error=err.message
            )
            report.uncertain += 1
        else:
            _settle(
                db, edition_id, subscriber_id, DeliveryStatus.FAILED, clock(), error=err.message
            )
            report.failed += 1
        report.errors.append(f"{recipient.email}: {err.message}")
    else:
        _settle(
            db,
            edition_id,
            subscriber_id,
            DeliveryStatus.SENT,
            clock(),
            provider_id=result.provider_message_id,
        )
        report.sent += 1
