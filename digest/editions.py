"""Editions: which date, which window, which items, and freezing them for sending.

An edition is one newsletter date. Until it starts sending it is a draft that
is recomputed from the stored articles every time (so the preview follows new
articles). When sending starts it is frozen: the chosen items are stored as
snapshots together with the rendered subject, preheader, HTML and text (one
variant per language), so a resumed or repeated send, and any later re-render,
produce the same email.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.rank import Candidate, Ranked, RankingParams
from digest.rank import select as select_top
from digest.render import DigestItem, RenderedEdition
from digest.store.articles import articles_in_window
from digest.store.models import Article, Edition, EditionItem, EditionStatus, EditionVariant


def local_date(moment: datetime, settings: Settings) -> date:
    return moment.astimezone(settings.newsletter.tz).date()


def send_time(newsletter_date: date, settings: Settings) -> datetime:
    """The scheduled send moment of a date's edition, as an aware UTC datetime."""
    local = datetime.combine(newsletter_date, settings.schedule.send_time, settings.newsletter.tz)
    return local.astimezone(UTC)


def due_at(
    newsletter_date: date, delivery_time: str | None, timezone: str | None, settings: Settings
) -> datetime | None:
    """When a subscriber who chose a delivery time gets this edition (None: right away).

    The time is read in the subscriber's zone (else the newsletter's) on the
    edition's date. It can only delay delivery: nobody gets an edition before
    it is sent.
    """
    if not delivery_time:
        return None
    hours, minutes = (int(part) for part in delivery_time.split(":"))
    zone = settings.newsletter.tz
    if timezone:
        # Validated on input; an old bad value falls back to the newsletter's zone.
        with suppress(ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(timezone)
    local = datetime.combine(newsletter_date, time(hours, minutes), zone)
    return local.astimezone(UTC)


def window(newsletter_date: date, settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """[start, cutoff): the window before the send time, or before now when sent early."""
    cutoff = min(send_time(newsletter_date, settings), now.astimezone(UTC))
    return cutoff - settings.ranking.window, cutoff


def ranking_params(settings: Settings) -> RankingParams:
    ranking = settings.ranking
    return RankingParams(
        max_items=ranking.max_items,
        half_life=ranking.half_life,
        priority_weight=ranking.priority_weight,
        source_weights=dict(ranking.source_weights),
    )


def get(session: Session, newsletter_date: date) -> Edition | None:
    return session.scalar(select(Edition).where(Edition.newsletter_date == newsletter_date))


def next_date(session: Session, settings: Settings, now: datetime) -> date:
    """Today's edition unless it has already gone out; then tomorrow's."""
    today = local_date(now, settings)
    edition = get(session, today)
    if edition is not None and edition.status == EditionStatus.SENT:
        return today + timedelta(days=1)
    return today


def _candidate(article: Article) -> Candidate:
    return Candidate(
        id=article.id,
        url=article.canonical_url,
        title=article.title,
        published_at=article.published_at,
        source=article.source,
        priority=article.priority,
        topics=tuple(article.topics or ()),
    )


def _item(article: Article) -> DigestItem:
    return DigestItem(
        title=article.title,
        url=article.url,
        teaser=article.teaser,
        source=article.source,
        published_at=article.published_at,
        image_url=article.image_url,
        image_alt=article.image_alt,
        author=article.author,
    )


@dataclass(frozen=True)
class PlannedItem:
    article_id: int | None
    score: float
    item: DigestItem
    signals: dict[str, float]


@dataclass(frozen=True)
class EditionPlan:
    """The items of one date's edition, either computed now or read from the frozen row."""

    newsletter_date: date
    window_start: datetime
    cutoff: datetime
    items: list[PlannedItem]
    candidates: int
    edition: Edition | None

    @property
    def frozen(self) -> bool:
        return self.edition is not None and self.edition.frozen_at is not None

    @property
    def digest_items(self) -> list[DigestItem]:
        return [planned.item for planned in self.items]


def plan(session: Session, settings: Settings, newsletter_date: date, now: datetime) -> EditionPlan:
    """The edition for a date: the frozen one if sending started, else ranked afresh."""
    edition = get(session, newsletter_date)
    if edition is not None and edition.frozen_at is not None:
        assert edition.window_start is not None and edition.cutoff_at is not None
        items = [
            PlannedItem(
                article_id=row.article_id,
                score=row.score,
                item=DigestItem.from_snapshot(
                    {key: value for key, value in row.snapshot.items() if key != "signals"}
                ),
                signals=dict(row.snapshot.get("signals", {})),
            )
            for row in edition.items
        ]
        return EditionPlan(
            newsletter_date, edition.window_start, edition.cutoff_at, items, len(items), edition
        )
    start, cutoff = window(newsletter_date, settings, now)
    articles = {article.id: article for article in articles_in_window(session, start, cutoff)}
    chosen: list[Ranked] = select_top(
        (_candidate(a) for a in articles.values()), now=cutoff, params=ranking_params(settings)
    )
    items = [
        PlannedItem(
            article_id=ranked.candidate.id,
            score=ranked.score,
            item=_item(articles[ranked.candidate.id]),
            signals=dict(ranked.signals),
        )
        for ranked in chosen
    ]
    return EditionPlan(newsletter_date, start, cutoff, items, len(articles), edition)


def freeze(
    session: Session,
    settings: Settings,
    edition_plan: EditionPlan,
    variants: Mapping[str, RenderedEdition],
    *,
    now: datetime,
) -> Edition:
    """Store the plan and its renderings (one per language) and mark it as sending.

    Idempotent: an edition that is already frozen is returned unchanged.
    """
    edition = edition_plan.edition or get(session, edition_plan.newsletter_date)
    if edition is not None and edition.frozen_at is not None:
        return edition
    if edition is None:
        edition = Edition(newsletter_date=edition_plan.newsletter_date, created_at=now)
        session.add(edition)
    edition.status = EditionStatus.SENDING
    edition.window_start = edition_plan.window_start
    edition.cutoff_at = edition_plan.cutoff
    edition.frozen_at = now
    edition.language = settings.newsletter.language
    edition.items = [
        EditionItem(
            position=position,
            article_id=planned.article_id,
            score=planned.score,
            snapshot={**planned.item.to_snapshot(), "signals": planned.signals},
        )
        for position, planned in enumerate(edition_plan.items, start=1)
    ]
    edition.variants = [
        EditionVariant(
            key=language,
            language=language,
            subject=rendered.subject,
            preheader=rendered.preheader,
            html=rendered.html,
            text=rendered.text,
        )
        for language, rendered in sorted(variants.items())
    ]
    session.flush()
    return edition


def variants_of(edition: Edition) -> dict[str, RenderedEdition]:
    """The renderings stored when the edition froze, by variant key (the language)."""
    return {
        variant.key: RenderedEdition(
            subject=variant.subject,
            preheader=variant.preheader,
            html=variant.html,
            text=variant.text,
        )
        for variant in edition.variants
    }


def variant_key(variants: Mapping[str, RenderedEdition], language: str | None, default: str) -> str:
    """Which stored rendering a subscriber gets: their language if rendered, else the default."""
    if language in variants:
        return str(language)
    return default if default in variants else min(variants)
