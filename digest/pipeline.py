"""One edition end to end: collect, rank, render, freeze, deliver, record.

The CLI, the scheduler and the web preview all go through these functions, so
an edition sent by hand and one sent by the scheduler are built the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from digest import editions
from digest.config import Settings, ensure_secret_key
from digest.delivery import get_backend, scheduled_sendgrid
from digest.delivery.base import Backend
from digest.delivery.ledger import Resolution
from digest.delivery.send import Progress, SendReport, deliver
from digest.editions import EditionPlan
from digest.errors import EditionError, InputError
from digest.rank.variants import DEFAULT_KEY, EVERYTHING, nearest
from digest.render import Personalization, RenderedEdition, Renderer, personalize
from digest.store import ranking as store_ranking
from digest.store.db import Database
from digest.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Subscriber,
    SubscriberStatus,
)
from digest.subscribers import LANGUAGES
from digest.subscribers import find as find_subscriber
from digest.tokens import TokenSigner

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_database(settings: Settings) -> Database:
    return Database(settings.database_url)


def signer_for(settings: Settings) -> TokenSigner:
    return TokenSigner(ensure_secret_key(settings), settings.newsletter.list_slug)


@dataclass(frozen=True)
class Draft:
    plan: EditionPlan
    rendered: RenderedEdition
    # The personalized variant shown ("all": the full edition).
    variant: str = DEFAULT_KEY

    @property
    def items(self) -> list[editions.PlannedItem]:
        return self.plan.variant_items(self.variant)


def resolve_date(value: str | None, settings: Settings, now: datetime) -> date:
    """``--date`` as given (YYYY-MM-DD, today, tomorrow), or today in the newsletter's zone."""
    today = editions.local_date(now, settings)
    if value is None or value == "today":
        return today
    if value == "tomorrow":
        return date.fromordinal(today.toordinal() + 1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--date {value!r} is not a date; use YYYY-MM-DD, today or tomorrow"
        ) from None


def renderer_for(settings: Settings, language: str) -> Renderer:
    """A renderer for one language (the newsletter's own settings otherwise)."""
    if language == settings.newsletter.language:
        return Renderer(settings)
    newsletter = settings.newsletter.model_copy(update={"language": language})
    return Renderer(settings.model_copy(update={"newsletter": newsletter}))


def draft(
    db: Database,
    settings: Settings,
    newsletter_date: date,
    now: datetime,
    *,
    renderer: Renderer | None = None,
    language: str | None = None,
    variant: str = DEFAULT_KEY,
    personalize: bool = False,
) -> Draft:
    """The edition as it would go out now (or as it went out, once frozen).

    ``language`` picks the language (default: the newsletter's), ``variant``
    a personalized variant ("all": the full edition); ``personalize`` plans
    the variants (needed for ``variant``).
    """
    language = language or settings.newsletter.language
    with db.session() as session:
        edition_plan = editions.plan(
            session,
            settings,
            newsletter_date,
            now,
            personalize=personalize or variant != DEFAULT_KEY,
        )
        if edition_plan.frozen and edition_plan.edition is not None:
            variants = editions.variants_of(edition_plan.edition)
            key = editions.variant_key(variants, language, settings.newsletter.language)
            personal = editions.rendered_key(key, variant)
            return Draft(edition_plan, variants.get(personal, variants[key]), variant)
    if renderer is None or language != settings.newsletter.language:
        renderer = renderer_for(settings, language)
    items = [planned.item for planned in edition_plan.variant_items(variant)]
    return Draft(edition_plan, renderer.render(newsletter_date, items), variant)


def subscriber_variant(
    db: Database, settings: Settings, edition_plan: EditionPlan, email: str
) -> tuple[str, str]:
    """(language, variant key) a subscriber gets of a planned or frozen edition."""
    with db.session() as session:
        try:
            subscriber = find_subscriber(session, email)
        except InputError:
            subscriber = None
        if subscriber is None:
            raise InputError(f"no subscriber with the address {email}")
        language = subscriber.language or settings.newsletter.language
        preference = store_ranking.preference(subscriber.topics, subscriber.muted_sources)
    if preference == EVERYTHING or not edition_plan.variants:
        return language, DEFAULT_KEY
    kept = {variant.preference: variant.key for variant in edition_plan.variants}
    if preference in kept:
        return language, kept[preference]
    counts = {variant.preference: variant.subscribers for variant in edition_plan.variants}
    universe = frozenset(settings.newsletter.topics).union(*(p.topics for p in kept))
    target = nearest(preference, [EVERYTHING, *kept], counts, universe)
    return language, kept.get(target, DEFAULT_KEY)


def write_rendered(rendered: RenderedEdition, directory: Path) -> list[Path]:
    """Write digest.html, digest.txt, subject.txt and preheader.txt into ``directory``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            "digest.html": rendered.html,
            "digest.txt": rendered.text,
            "subject.txt": rendered.subject + "\n",
            "preheader.txt": rendered.preheader + "\n",
        }
        paths = []
        for name, content in files.items():
            path = directory / name
            path.write_text(content, encoding="utf-8")
            paths.append(path)
    except OSError as err:
        raise InputError(f"cannot write to {directory}: {err.strerror}") from None
    return paths


PREVIEW_EMAIL = "subscriber@example.com"


def preview_personalized(settings: Settings, rendered: RenderedEdition) -> RenderedEdition:
    """Fill the per-recipient parts with stand-ins, for previews and `digest render`."""
    base = settings.newsletter.base_url
    return personalize(
        rendered,
        Personalization(
            email=PREVIEW_EMAIL,
            name=None,
            unsubscribe_url=f"{base}/unsubscribe/preview",
            preferences_url=f"{base}/preferences/preview",
        ),
    )


MAX_SCHEDULE = timedelta(hours=72)


def _check_schedule(settings: Settings, send_at: datetime, now: datetime) -> datetime:
    """``--at`` checked before anything is frozen or sent; returned aware."""
    if settings.delivery.backend != "sendgrid":
        raise InputError(
            "--at needs delivery.backend sendgrid: SendGrid holds scheduled messages",
            hint="without it, let `digest run` send at schedule.send_time",
        )
    if send_at.tzinfo is None:
        send_at = send_at.replace(tzinfo=settings.newsletter.tz)
    if not now < send_at <= now + MAX_SCHEDULE:
        raise InputError(
            f"--at {send_at.isoformat(timespec='minutes')} must be in the next 72 hours "
            "(SendGrid holds messages at most that long)"
        )
    return send_at


def _scheduled_backend(
    db: Database,
    settings: Settings,
    edition_id: int,
    send_at: datetime | None,
    scheduled: tuple[datetime | None, str | None],
    now: datetime,
) -> Backend:
    """The backend for a scheduled send; the first run creates and stores the batch id.

    A resumed run keeps the stored time and batch id, so every message of the
    edition is held until the same moment and one `digest cancel` stops them all.
    """
    from digest.delivery.sendgrid import create_batch_id

    stored_at, batch_id = scheduled
    if stored_at is not None and batch_id is not None:
        if send_at is not None and send_at != stored_at:
            raise InputError(
                f"this edition is already scheduled for {stored_at:%Y-%m-%d %H:%M} UTC",
                hint="cancel it with `digest cancel` first, or resume without --at",
            )
        return scheduled_sendgrid(settings, send_at=stored_at, batch_id=batch_id)
    assert send_at is not None
    batch_id = create_batch_id(settings)
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        edition.send_at = send_at.astimezone(UTC)
        edition.provider_batch_id = batch_id
    return scheduled_sendgrid(settings, send_at=send_at.astimezone(UTC), batch_id=batch_id)


def cancel(db: Database, settings: Settings, edition_id: int, *, now: datetime) -> int:
    """Cancel an edition's scheduled send at SendGrid; return the recipients it held.

    Their ledger rows become failed ("cancelled"), the edition `cancelled`.
    """
    from digest.delivery.sendgrid import cancel_scheduled

    with db.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is None:
            raise EditionError(f"there is no edition with id {edition_id}")
        if edition.provider_batch_id is None:
            raise EditionError(
                f"the edition of {edition.newsletter_date} has no scheduled send to cancel",
                hint="only sends made with `digest send --at` can be cancelled",
            )
        batch_id = edition.provider_batch_id
    cancel_scheduled(settings, batch_id)
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        edition.status = EditionStatus.CANCELLED
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.status.in_([DeliveryStatus.ACCEPTED, DeliveryStatus.UNCERTAIN]),
            )
            .values(
                status=DeliveryStatus.FAILED,
                error=f"scheduled send cancelled by the operator (SendGrid batch {batch_id})",
                updated_at=now,
            )
        )
        return int(cast("CursorResult[Any]", result).rowcount)


def render_all(settings: Settings, current: Draft) -> dict[str, RenderedEdition]:
    """Every rendering an edition needs: each language × (full edition + each variant).

    One rendering per language, so each subscriber reads the email's own words
    (greeting, footer, dates) in the language they chose; one per personalized
    variant, so each gets the items for their topics. Each is rendered once.
    """
    edition_plan = current.plan
    day = edition_plan.newsletter_date
    renderings: dict[str, RenderedEdition] = {}
    for language in LANGUAGES:
        renderer = renderer_for(settings, language)
        if language == settings.newsletter.language and current.variant == DEFAULT_KEY:
            renderings[language] = current.rendered
        else:
            renderings[language] = renderer.render(day, edition_plan.digest_items)
        for variant in edition_plan.variants:
            items = [planned.item for planned in variant.items]
            renderings[editions.rendered_key(language, variant.key)] = renderer.render(day, items)
    return renderings


def _skipped(db: Database, current: Draft, *, dry_run: bool, now: datetime) -> SendReport:
    """A thin day with ranking.thin_day "skip": record why; send nothing."""
    edition_plan = current.plan
    edition_id = edition_plan.edition.id if edition_plan.edition else None
    if not dry_run:
        with db.session() as session:
            edition_id = editions.skip(session, edition_plan, now=now).id
    return SendReport(
        edition_plan.newsletter_date,
        edition_id,
        "",
        0,
        dry_run=dry_run,
        thin_day=edition_plan.thin_reason,
        edition_skipped=True,
    )


def _no_items(edition_plan: EditionPlan) -> EditionError:
    start = edition_plan.window_start.isoformat(timespec="minutes")
    end = edition_plan.cutoff.isoformat(timespec="minutes")
    return EditionError(
        f"the edition of {edition_plan.newsletter_date} has no articles "
        f"(none published between {start} and {end})",
        hint="ingest articles first with `digest ingest`, or widen ranking.window",
    )


def send(
    db: Database,
    settings: Settings,
    newsletter_date: date,
    *,
    clock: Clock = utc_now,
    backend: Backend | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    resolve_uncertain: Resolution | None = None,
    send_at: datetime | None = None,
) -> SendReport:
    """Freeze the date's edition (if not yet) and deliver it to whoever lacks it.

    With ``send_at`` (SendGrid only) the messages are handed over now and held
    by SendGrid until then, under one batch id that `digest cancel` can cancel.
    """
    now = clock()
    if send_at is not None:
        send_at = _check_schedule(settings, send_at, now)
    current = draft(db, settings, newsletter_date, now, personalize=True)
    if not current.plan.items and not current.plan.candidates:
        raise _no_items(current.plan)
    if current.plan.skipped and not current.plan.frozen:
        return _skipped(db, current, dry_run=dry_run, now=now)
    if not current.plan.items:
        raise _no_items(current.plan)
    if dry_run:
        with db.session() as session:
            audience = session.scalar(
                select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE)
            )
        edition = current.plan.edition
        return SendReport(
            newsletter_date,
            edition.id if edition else None,
            current.rendered.subject,
            len(current.plan.items),
            audience=audience or 0,
            dry_run=True,
            thin_day=current.plan.thin_reason,
        )
    renderings: dict[str, RenderedEdition] = {}
    if not current.plan.frozen:
        renderings = render_all(settings, current)
    with db.session() as session:
        edition = editions.freeze(session, settings, current.plan, renderings, now=now)
        edition_id = edition.id
        scheduled = (edition.send_at, edition.provider_batch_id)
    if send_at is not None or scheduled[1] is not None:
        backend = backend or _scheduled_backend(db, settings, edition_id, send_at, scheduled, now)
    backend = backend or get_backend(settings)
    # Only a provider that takes many recipients per request gains from more
    # requests in flight; one-by-one backends keep a single connection.
    concurrency = settings.delivery.sendgrid.concurrency if backend.max_batch_size > 1 else 1
    return deliver(
        db,
        settings,
        edition_id,
        backend,
        signer=signer_for(settings),
        clock=clock,
        progress=progress,
        batch_size=settings.delivery.sendgrid.batch_size,
        concurrency=concurrency,
        resolve_uncertain=resolve_uncertain,
    )
