"""One edition end to end: collect, rank, render, freeze, deliver, record.

The CLI, the scheduler and the web preview all go through these functions, so
an edition sent by hand and one sent by the scheduler are built the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from digest import editions
from digest.config import Settings, ensure_secret_key
from digest.delivery import get_backend
from digest.delivery.base import Backend
from digest.delivery.ledger import Resolution
from digest.delivery.send import Progress, SendReport, deliver
from digest.editions import EditionPlan
from digest.errors import EditionError, InputError
from digest.render import Personalization, RenderedEdition, Renderer, personalize
from digest.store.db import Database
from digest.store.models import Subscriber, SubscriberStatus
from digest.subscribers import LANGUAGES
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
) -> Draft:
    """The edition as it would go out now (or as it went out, once frozen).

    ``language`` picks the variant (default: the newsletter's language).
    """
    language = language or settings.newsletter.language
    with db.session() as session:
        edition_plan = editions.plan(session, settings, newsletter_date, now)
        if edition_plan.frozen and edition_plan.edition is not None:
            variants = editions.variants_of(edition_plan.edition)
            key = editions.variant_key(variants, language, settings.newsletter.language)
            return Draft(edition_plan, variants[key])
    if renderer is None or language != settings.newsletter.language:
        renderer = renderer_for(settings, language)
    return Draft(edition_plan, renderer.render(newsletter_date, edition_plan.digest_items))


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
) -> SendReport:
    """Freeze the date's edition (if not yet) and deliver it to whoever lacks it."""
    now = clock()
    current = draft(db, settings, newsletter_date, now)
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
        )
    variants: dict[str, RenderedEdition] = {settings.newsletter.language: current.rendered}
    if not current.plan.frozen:
        # One rendering per language, so each subscriber reads the email's own
        # words (greeting, footer, dates) in the language they chose.
        for language in LANGUAGES:
            if language not in variants:
                variants[language] = renderer_for(settings, language).render(
                    newsletter_date, current.plan.digest_items
                )
    with db.session() as session:
        edition = editions.freeze(session, settings, current.plan, variants, now=now)
        edition_id = edition.id
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
