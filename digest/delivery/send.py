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
   wait; the rest gather by variant (from page to page) into full batches.
   Each batch is claimed (``in_flight``, committed, in the same transaction
   as a renewal of the lease) *before* its request leaves, built and sent
   through :meth:`Backend.send_batch` in a thread pool, and settled:
   ``accepted``, ``failed`` (for good), back to ``pending`` (not sent; the
   next run takes it) or ``uncertain`` (never resent blindly).

Killed at any moment and started again, a run therefore sends every pending
recipient and never an accepted one again.
"""

from __future__ import annotations

import concurrent.futures as futures
import gc
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from digest.config import Settings
from digest.delivery import ledger, ledger_batches
from digest.delivery.base import Backend, Batch, BatchOutcome, BatchRecipient
from digest.delivery.compose import Composer, sender_domain
from digest.delivery.ledger import Resolution
from digest.delivery.ledger_batches import PendingRow
from digest.editions import VariantChooser, due_at, variants_of
from digest.errors import DeliveryError
from digest.rank.variants import DEFAULT_KEY
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
    # A thin day: why the edition is short, or (edition_skipped) why nothing was sent.
    thin_day: str | None = None
    edition_skipped: bool = False

    @property
    def complete(self) -> bool:
        """Nothing is left to send or to resolve (waiting recipients are on schedule)."""
        return self.pending == 0 and self.uncertain == 0


class _Recipients:
    """Builds the per-recipient part of a batch: links, headers, ids.

    This runs once per recipient, so whatever is the same for everyone
    (base URL, list headers, ids of the edition) is worked out here once.
    """

    def __init__(self, settings: Settings, signer: TokenSigner, edition_id: int, day: date) -> None:
        self.composer = Composer(settings, signer)
        self.edition_id = str(edition_id)
        self.day = day.isoformat()
        self.message_id = f"<digest.{self.day}.{{}}@{sender_domain(settings)}>"

    def build(self, row: PendingRow) -> BatchRecipient:
        subscriber = row.subscriber_id
        links = self.composer.links(subscriber)
        ident = str(subscriber)
        return BatchRecipient(
            delivery_id=row.delivery_id,
            subscriber_id=subscriber,
            email=row.email,
            name=row.name,
            personalization=Personalization(
                email=row.email,
                name=row.name,
                unsubscribe_url=links.unsubscribe,
                preferences_url=links.preferences,
            ),
            headers=self.composer.headers(links.unsubscribe),
            message_id=self.message_id.format(ident),
            custom_args={
                "edition_id": self.edition_id,
                "edition_date": self.day,
                "subscriber_id": ident,
            },
        )


def recipient_builder(
    settings: Settings, signer: TokenSigner, edition_id: int, day: date
) -> Callable[[PendingRow], BatchRecipient]:
    """What the send loop makes of each pending row (for benchmarks and tools)."""
    return _Recipients(settings, signer, edition_id, day).build


@contextmanager
def _collector_tuned_for_sending() -> Iterator[None]:
    """Keep the garbage collector's work to what the send itself creates.

    The send keeps a few objects per recipient alive until their batch is
    settled. That growth sets off full collections, and each one walks every
    object of the process (SQLAlchemy, the renderers, the settings): some
    70 ms, dozens of times per million recipients. So objects older than the
    send are set aside (gc.freeze) and given back after (gc.unfreeze): nothing
    is kept for good. Young collections, one per 700 new objects by default,
    run every 20,000 instead. Both are restored afterwards; left alone when
    something else in the process uses gc.freeze.
    """
    if gc.get_freeze_count():
        yield
        return
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


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
        chooser = VariantChooser(edition, settings)
        default = chooser.language_key(settings.newsletter.language)
        day = edition.newsletter_date
        items = sum(1 for item in edition.items if item.variant == DEFAULT_KEY)
        report = SendReport(day, edition.id, variants[default].subject, items)
        report.thin_day = edition.thin_reason
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
        with _collector_tuned_for_sending():
            stop = _run_batches(
                db,
                settings,
                backend,
                report,
                variants,
                chooser,
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
    chooser: VariantChooser,
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
    # SQLite takes one writer at a time (a second one waits in a busy handler
    # that sleeps for milliseconds), so its settlements stay on this thread;
    # a server database settles in the pool while this thread claims.
    settle_in_pool = db.engine.dialect.name != "sqlite"
    # When the lease was last renewed (every claim renews it).
    renewed = clock()
    in_flight: deque[futures.Future[tuple[int, BatchOutcome]]] = deque()

    def collect(future: futures.Future[tuple[int, BatchOutcome]]) -> None:
        nonlocal handled, stop
        batch_id, outcome = future.result()
        if not settle_in_pool:
            settle(batch_id, outcome)
        report.sent += len(outcome.accepted)
        report.failed += len(outcome.failed)
        report.errors += [f"delivery {i}: {e}" for i, e in list(outcome.failed.items())[:20]]
        if outcome.stop is not None and stop is None:
            stop = outcome.stop
        handled += outcome.settled()
        if progress is not None:
            progress(handled, total)

    def send(
        batch_id: int, key: str, rows: list[PendingRow], now: datetime
    ) -> tuple[int, BatchOutcome]:
        # Built here, in the pool, so that the loop's own thread goes back to
        # the database (where it waits without the GIL) while this runs.
        batch = Batch(
            rendered=variants[key],
            recipients=[recipients.build(row) for row in rows],
            from_email=newsletter.from_email,
            from_name=newsletter.sender_name,
            reply_to=newsletter.reply_to,
            categories=categories,
            date=now,
        )
        outcome = backend.send_batch(batch)
        if settle_in_pool:
            settle(batch_id, outcome)
        return batch_id, outcome

    def settle(batch_id: int, outcome: BatchOutcome) -> None:
        ledger_batches.settle(
            db,
            batch_id,
            accepted=outcome.accepted,
            failed=outcome.failed,
            retry=outcome.retry,
            uncertain=outcome.uncertain,
            now=clock(),
        )

    def claim_and_send(key: str, rows: list[PendingRow], now: datetime) -> None:
        nonlocal handled, renewed
        # At most `concurrency` requests in flight: wait for the oldest first,
        # so a refusal (bad credentials) stops before the next claim.
        while len(in_flight) >= concurrency:
            collect(in_flight.popleft())
        if stop is not None:
            return
        claimed_at = clock()
        batch_id, claimed, suppressed = ledger_batches.claim(
            db,
            edition_id,
            backend.name,
            [row.delivery_id for row in rows],
            claimed_at,
            owner=owner,
        )
        renewed = claimed_at
        report.skipped += suppressed
        handled += suppressed
        if len(claimed) < len(rows):
            rows = [row for row in rows if row.delivery_id in claimed]
        in_flight.append(pool.submit(send, batch_id, key, rows, now))

    categories = tuple(settings.delivery.sendgrid.categories)
    # Pages can be larger than batches: one-by-one backends claim a single
    # message at a time (a crash then leaves at most one uncertain row), but
    # reading the ledger one row at a time would be slow.
    page_size = max(size, PAGE_SIZE)
    after = 0
    # Rows waiting for a full batch of their variant, carried from page to page
    # (at most one batch per variant): with two languages, a page of a
    # thousand rows would otherwise go out as two half-empty requests. They
    # are only claimed when their batch is sent.
    gathering: dict[str, list[PendingRow]] = {}
    # Preferences are read (and matched) only when the edition has personalized variants.
    personalized = chooser.personalized
    with backend, futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        while stop is None:
            page = ledger_batches.pending_page(
                db, edition_id, after, page_size, preferences=personalized
            )
            now = clock()
            if not page:
                # Whatever is still gathering goes out in part-filled batches.
                for key, rows in gathering.items():
                    if rows and stop is None:
                        claim_and_send(key, rows, now)
                break
            after = page[-1].delivery_id
            if now - renewed > ledger.LEASE / 4:
                # Claims renew the lease; pages without any (everybody waiting
                # for their delivery time) must not let it run out.
                ledger.renew(db, edition_id, owner, now)
                renewed = now
            gone = [row.delivery_id for row in page if row.status != SubscriberStatus.ACTIVE]
            ledger_batches.suppress(db, gone, now)
            report.skipped += len(gone)
            handled += len(gone)
            for row in page:
                if row.status != SubscriberStatus.ACTIVE:
                    continue
                if row.delivery_time:
                    due = due_at(report.newsletter_date, row.delivery_time, row.timezone, settings)
                    if due is not None and now < due:
                        report.waiting += 1
                        handled += 1
                        continue
                key = (
                    chooser.key(row.language, row.topics, row.muted_sources)
                    if personalized
                    else chooser.language_key(row.language)
                )
                rows = gathering.setdefault(key, [])
                rows.append(row)
                if len(rows) >= size:
                    gathering[key] = []
                    claim_and_send(key, rows, now)
                    if stop is not None:
                        break
        while in_flight:
            collect(in_flight.popleft())
    return stop
