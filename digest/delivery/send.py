"""The send loop: the same exactly-once-in-effect guarantees for every backend.

One run of :func:`deliver` for a frozen edition:

1. takes the edition's lease, so no second run works on it at the same time;
2. marks rows left ``in_flight`` by a run that died as ``uncertain`` (their
   request may have reached the provider), then resolves uncertain rows for
   which the provider has reported an event, and applies the operator's
   ``--resolve-uncertain resend|skip``;
3. queues a ``pending`` row for every active subscriber without one;
4. walks the pending rows in pages: rows of subscribers who left meanwhile
   become ``suppressed``, rows of subscribers whose delivery time has not come
   wait; the rest are grouped by variant into batches. Each batch is claimed
   (``in_flight``, committed) *before* its request leaves, sent through
   :meth:`Backend.send_batch`, and settled: ``accepted``, ``failed`` (for
   good), back to ``pending`` (not sent; the next run takes it) or
   ``uncertain`` (never resent blindly).

Killed at any moment and started again, a run therefore sends every pending
recipient and never an accepted one again.
"""

from __future__ import annotations

import concurrent.futures as futures
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from digest.config import Settings
from digest.delivery import ledger
from digest.delivery.base import Backend, Batch, BatchOutcome, BatchRecipient
from digest.delivery.compose import Links, links_for, list_headers, sender_domain
from digest.delivery.ledger import PendingRow, Resolution
from digest.editions import due_at, variant_key, variants_of
from digest.errors import DeliveryError
from digest.render import Personalization, RenderedEdition
from digest.store.db import Database
from digest.store.models import DeliveryStatus, Edition, EditionStatus, Subscriber, SubscriberStatus
from digest.tokens import TokenSigner

Progress = Callable[[int, int], None]
"""Called with (recipients handled, recipients pending at the start)."""

PAGE_SIZE = 500


@dataclass
class SendReport:
    newsletter_date: date
    edition_id: int | None
    subject: str
    items: int
    # Active subscribers at the start of the run.
    audience: int = 0
    # Accepted by the backend in this run.
    sent: int = 0
    # Accepted before this run.
    already_sent: int = 0
    # Refused for good in this run (bad address, rejected content).
    failed: int = 0
    # Still pending after the run: could not be sent now; the next run takes them.
    pending: int = 0
    # May or may not have arrived (after this run): never resent blindly.
    uncertain: int = 0
    # Unsubscribed, bounced or complained while queued.
    skipped: int = 0
    # Chose a later delivery time: a later run (`digest run`'s catch-up) sends them.
    waiting: int = 0
    # Uncertain rows resolved in this run (by provider events or the operator).
    resolved: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Nothing is left to send or to resolve (waiting recipients are on schedule)."""
        return self.pending == 0 and self.uncertain == 0


class _Recipients:
    """Builds the per-recipient part of a batch: links, headers, ids."""

    def __init__(self, settings: Settings, signer: TokenSigner, edition_id: int, day: date) -> None:
        self.settings = settings
        self.signer = signer
        self.edition_id = str(edition_id)
        self.day = day.isoformat()
        self.domain = sender_domain(settings)

    def build(self, row: PendingRow) -> BatchRecipient:
        links: Links = links_for(self.settings, self.signer, row.subscriber_id)
        return BatchRecipient(
            delivery_id=row.delivery_id,
            subscriber_id=row.subscriber_id,
            email=row.email,
            name=row.name,
            personalization=Personalization(
                email=row.email,
                name=row.name,
                unsubscribe_url=links.unsubscribe,
                preferences_url=links.preferences,
            ),
            headers=list_headers(self.settings, links),
            message_id=f"<digest.{self.day}.{row.subscriber_id}@{self.domain}>",
            custom_args={
                "edition_id": self.edition_id,
                "edition_date": self.day,
                "subscriber_id": str(row.subscriber_id),
            },
        )


def _count_pending(db: Database, edition_id: int) -> int:
    return ledger.counts(db, edition_id)[DeliveryStatus.PENDING]


def deliver(
    db: Database,
    settings: Settings,
    edition_id: int,
    backend: Backend,
    *,
    signer: TokenSigner,
    clock: Callable[[], datetime],
    progress: Progress | None = None,
    batch_size: int | None = None,
    concurrency: int = 1,
    resolve_uncertain: Resolution | None = None,
) -> SendReport:
    """Send a frozen edition to every active subscriber who does not have it yet.

    Raises DeliveryError (DeliveryAuthError for refused credentials) when the
    provider refuses something that every batch would hit, after settling what
    was under way, and EditionError when another run holds the edition. Every
    other problem is recorded per recipient.
    """
    size = max(1, min(batch_size or backend.max_batch_size, backend.max_batch_size))
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is None or edition.frozen_at is None:
            raise DeliveryError(f"edition {edition_id} is not frozen; plan and freeze it first")
        variants = variants_of(edition)
        default = variant_key(variants, settings.newsletter.language, settings.newsletter.language)
        day = edition.newsletter_date
        report = SendReport(day, edition.id, variants[default].subject, len(edition.items))
        report.audience = (
            session.scalar(select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE))
            or 0
        )

    owner = ledger.new_owner()
    ledger.acquire(db, edition_id, owner, clock())
    try:
        ledger.recover(db, edition_id, clock())
        report.resolved += ledger.resolve_by_events(db, edition_id, clock())
        if resolve_uncertain is not None:
            report.resolved += ledger.resolve_by_operator(
                db, edition_id, resolve_uncertain, clock()
            )
        report.already_sent = ledger.counts(db, edition_id)[DeliveryStatus.ACCEPTED]
        ledger.enqueue(db, edition_id, backend.name, clock())
        total = _count_pending(db, edition_id)
        stop = _run_batches(
            db,
            settings,
            backend,
            report,
            variants,
            default,
            _Recipients(settings, signer, edition_id, day),
            owner=owner,
            clock=clock,
            size=size,
            concurrency=concurrency,
            progress=progress,
            total=total,
        )
    finally:
        ledger.release(db, edition_id, owner)

    after = ledger.counts(db, edition_id)
    report.pending = after[DeliveryStatus.PENDING] - report.waiting
    report.uncertain = after[DeliveryStatus.UNCERTAIN]
    if stop is not None:
        raise stop
    if report.complete and report.waiting == 0:
        with db.session() as session:
            edition = session.get(Edition, edition_id)
            if edition is not None and edition.status == EditionStatus.SENDING:
                edition.status = EditionStatus.SENT
                edition.sent_at = clock()
    return report


def _run_batches(
    db: Database,
    settings: Settings,
    backend: Backend,
    report: SendReport,
    variants: dict[str, RenderedEdition],
    default: str,
    recipients: _Recipients,
    *,
    owner: str,
    clock: Callable[[], datetime],
    size: int,
    concurrency: int,
    progress: Progress | None,
    total: int,
) -> DeliveryError | None:
    """Claim and send batches until no pending row is left; return a stopping error."""
    newsletter = settings.newsletter
    edition_id = report.edition_id
    assert edition_id is not None
    handled = 0
    stop: DeliveryError | None = None
    in_flight: deque[futures.Future[tuple[int, BatchOutcome]]] = deque()

    def collect(future: futures.Future[tuple[int, BatchOutcome]]) -> None:
        nonlocal handled, stop
        batch_id, outcome = future.result()
        ledger.settle(
            db,
            batch_id,
            accepted=outcome.accepted,
            failed=outcome.failed,
            retry=outcome.retry,
            uncertain=outcome.uncertain,
            now=clock(),
        )
        report.sent += len(outcome.accepted)
        report.failed += len(outcome.failed)
        report.errors += [f"delivery {i}: {e}" for i, e in list(outcome.failed.items())[:20]]
        if outcome.stop is not None and stop is None:
            stop = outcome.stop
        handled += outcome.settled()
        if progress is not None:
            progress(handled, total)

    def send(batch_id: int, batch: Batch) -> tuple[int, BatchOutcome]:
        return batch_id, backend.send_batch(batch)

    after = 0
    # Pages can be larger than batches: one-by-one backends claim a single
    # message at a time (a crash then leaves at most one uncertain row), but
    # reading the ledger one row at a time would be slow.
    page_size = max(size, PAGE_SIZE)
    with backend, futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        while stop is None:
            page = ledger.pending_page(db, edition_id, after, page_size)
            if not page:
                break
            after = page[-1].delivery_id
            now = clock()
            ledger.renew(db, edition_id, owner, now)
            gone = [row.delivery_id for row in page if row.status != SubscriberStatus.ACTIVE]
            ledger.suppress(db, gone, now)
            report.skipped += len(gone)
            handled += len(gone)
            groups: dict[str, list[PendingRow]] = {}
            for row in page:
                if row.status != SubscriberStatus.ACTIVE:
                    continue
                due = due_at(report.newsletter_date, row.delivery_time, row.timezone, settings)
                if due is not None and now < due:
                    report.waiting += 1
                    handled += 1
                    continue
                groups.setdefault(variant_key(variants, row.language, default), []).append(row)
            chunks = [
                (key, rows[start : start + size])
                for key, rows in groups.items()
                for start in range(0, len(rows), size)
            ]
            for key, rows in chunks:
                # At most `concurrency` requests in flight: wait for the oldest
                # first, so a refusal (bad credentials) stops before the next claim.
                while len(in_flight) >= concurrency:
                    collect(in_flight.popleft())
                if stop is not None:
                    break
                batch_id, claimed, suppressed = ledger.claim(
                    db, edition_id, backend.name, [row.delivery_id for row in rows], clock()
                )
                report.skipped += suppressed
                handled += suppressed
                batch = Batch(
                    rendered=variants[key],
                    recipients=[
                        recipients.build(row) for row in rows if row.delivery_id in claimed
                    ],
                    from_email=newsletter.from_email,
                    from_name=newsletter.sender_name,
                    reply_to=newsletter.reply_to,
                    categories=tuple(settings.delivery.sendgrid.categories),
                    date=now,
                )
                in_flight.append(pool.submit(send, batch_id, batch))
        while in_flight:
            collect(in_flight.popleft())
    return stop
