"""Editions: which date, which window, which items, and freezing them for sending.

An edition is one newsletter date. Until it starts sending it is a draft that
is recomputed from the stored articles every time (so the preview follows new
articles). When sending starts it is frozen: the chosen items are stored as
snapshots together with the rendered subject, preheader, HTML and text (one
rendering per language, and per language and personalized variant), so a
resumed or repeated send, and any later re-render, produce the same email.

Ranking (digest.rank) reads the window's articles, the items of earlier
editions (novelty), clicks they got and the editor's decisions for the date;
a thin day is recorded on the edition with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.rank import (
    Chosen,
    ClusterParams,
    EditionSelection,
    PreferenceSet,
    RankingConfig,
    build_variants,
    select_edition,
    select_variants,
)
from digest.rank.topics import TopicMapper, TopicRules
from digest.rank.variants import DEFAULT_KEY, EVERYTHING, nearest
from digest.render import AlsoReported, DigestItem, RenderedEdition
from digest.store import ranking as store_ranking
from digest.store.articles import articles_in_window
from digest.store.models import (
    Article,
    Edition,
    EditionItem,
    EditionStatus,
    EditionVariant,
)


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


def ranking_config(settings: Settings) -> RankingConfig:
    """The ranking's settings; sections follow newsletter.topics unless ordered otherwise."""
    ranking = settings.ranking
    cluster = ranking.cluster
    return RankingConfig(
        max_items=ranking.max_items,
        half_life=ranking.half_life,
        priority_weight=ranking.priority_weight,
        source_weights=dict(ranking.source_weights),
        topic_weights=dict(ranking.topic_weights),
        popularity_weight=ranking.popularity_weight,
        popularity_scale=ranking.popularity_scale,
        click_weight=ranking.click_weight,
        coverage_weight=ranking.coverage_weight,
        novelty_editions=ranking.novelty_editions,
        updated_factor=ranking.updated_factor,
        mmr_lambda=ranking.mmr_lambda,
        mmr_pool=ranking.mmr_pool,
        max_per_source=ranking.max_per_source,
        max_per_topic=ranking.max_per_topic,
        cap_own_sources=ranking.cap_own_sources,
        min_score=ranking.min_score,
        min_items=ranking.min_items,
        thin_day=ranking.thin_day,
        section_order=tuple(ranking.section_order or settings.newsletter.topics),
        top_stories=ranking.top_stories,
        own_sources=frozenset(ranking.own_sources),
        prefer_own_site=ranking.prefer_own_site,
        exclude_titles=tuple(ranking.exclude_titles),
        cluster=ClusterParams(
            max_gap=cluster.max_gap,
            text_chars=cluster.text_chars,
            same_language_cosine=cluster.same_language_cosine,
            cross_language_min_shared=cluster.cross_language_min_shared,
        ),
    )


def topic_mapper(settings: Settings) -> TopicMapper:
    """How stored articles' categories, URLs and words map onto newsletter.topics."""
    rules = settings.topics
    return TopicMapper(
        TopicRules(
            topics=tuple(settings.newsletter.topics),
            aliases={k: tuple(v) for k, v in rules.aliases.items()},
            builtin_aliases=rules.builtin_aliases,
            url_rules={k: tuple(v) for k, v in rules.url_rules.items()},
            url_sections=rules.url_sections,
            keywords={k: tuple(v) for k, v in rules.keywords.items()},
        )
    )


def get(session: Session, newsletter_date: date) -> Edition | None:
    return session.scalar(select(Edition).where(Edition.newsletter_date == newsletter_date))


def next_date(session: Session, settings: Settings, now: datetime) -> date:
    """Today's edition unless it has already gone out (or was skipped); then tomorrow's."""
    today = local_date(now, settings)
    edition = get(session, today)
    if edition is not None and edition.status in (EditionStatus.SENT, EditionStatus.SKIPPED):
        return today + timedelta(days=1)
    return today


@dataclass(frozen=True)
class PlannedItem:
    article_id: int | None
    score: float
    item: DigestItem
    signals: dict[str, float]
    # Kept in the frozen snapshot so later editions can tell a resend from an update.
    content_hash: str = ""
    canonical_url: str = ""
    language: str | None = None
    pinned: bool = False

    def snapshot(self) -> dict[str, Any]:
        return {
            **self.item.to_snapshot(),
            "signals": self.signals,
            "content_hash": self.content_hash,
            "canonical_url": self.canonical_url,
            "language": self.language,
            "pinned": self.pinned,
        }

    @classmethod
    def from_row(cls, row: EditionItem) -> PlannedItem:
        snapshot = row.snapshot
        return cls(
            article_id=row.article_id,
            score=row.score,
            item=DigestItem.from_snapshot(snapshot),
            signals=dict(snapshot.get("signals", {})),
            content_hash=str(snapshot.get("content_hash") or ""),
            canonical_url=str(snapshot.get("canonical_url") or snapshot.get("url") or ""),
            language=snapshot.get("language"),
            pinned=bool(snapshot.get("pinned", False)),
        )


@dataclass(frozen=True)
class PlanVariant:
    """A personalized edition: what subscribers with one preference set (or merged into it) get."""

    key: str
    preference: PreferenceSet
    subscribers: int
    items: list[PlannedItem]
    # Nothing today on the chosen topics: these subscribers get the full edition.
    fallback: bool = False


@dataclass(frozen=True)
class EditionPlan:
    """The items of one date's edition, either computed now or read from the frozen row."""

    newsletter_date: date
    window_start: datetime
    cutoff: datetime
    items: list[PlannedItem]
    candidates: int
    edition: Edition | None
    # The ranking's full result (None once frozen: only the items are stored).
    selection: EditionSelection | None = None
    # A thin day: why, and whether the edition is skipped (else shortened).
    thin_reason: str | None = None
    skipped: bool = False
    # Personalized variants besides the full edition ("all"), when asked for.
    variants: tuple[PlanVariant, ...] = ()

    @property
    def frozen(self) -> bool:
        return self.edition is not None and self.edition.frozen_at is not None

    @property
    def digest_items(self) -> list[DigestItem]:
        return [planned.item for planned in self.items]

    def variant_items(self, key: str) -> list[PlannedItem]:
        for variant in self.variants:
            if variant.key == key:
                return variant.items
        return self.items


def rendered_key(language: str, variant: str) -> str:
    """The key of a stored rendering: "de" (full edition) or "de:v-1a2b3c4d5e"."""
    return language if variant == DEFAULT_KEY else f"{language}:{variant}"


def _planned(chosen: Chosen, articles: Mapping[int, Article]) -> PlannedItem:
    article = articles[chosen.candidate.id]
    also = tuple(
        AlsoReported(title=other.title, url=other.url, source=other.source)
        for other in (articles[c.id] for c in chosen.also_reported_by)
    )
    item = DigestItem(
        title=article.title,
        url=article.url,
        teaser=article.teaser,
        source=article.source,
        published_at=article.published_at,
        image_url=article.image_url,
        image_alt=article.image_alt,
        author=article.author,
        section=chosen.section,
        also_reported_by=also,
    )
    return PlannedItem(
        article_id=article.id,
        score=chosen.score,
        item=item,
        signals=dict(chosen.signals),
        content_hash=article.content_hash,
        canonical_url=article.canonical_url,
        language=article.language,
        pinned=chosen.pinned,
    )


def rank_window(
    session: Session, settings: Settings, newsletter_date: date, now: datetime
) -> tuple[EditionSelection, dict[int, Article], datetime, datetime]:
    """Rank the window's stored articles (with history, clicks and editor decisions)."""
    start, cutoff = window(newsletter_date, settings, now)
    articles = {article.id: article for article in articles_in_window(session, start, cutoff)}
    editor = store_ranking.editor_actions(session, newsletter_date)
    # A pinned article is in even when it is older than the window.
    for article_id in sorted(editor.pins - articles.keys()):
        pinned = session.get(Article, article_id)
        if pinned is not None and pinned.published_at < cutoff:
            articles[article_id] = pinned
    clicks = store_ranking.clicks_by_article(session, list(articles.values()))
    config = ranking_config(settings)
    topics = topic_mapper(settings)
    selection = select_edition(
        (store_ranking.candidate(a, clicks.get(a.id, 0), topics) for a in articles.values()),
        now=cutoff,
        config=config,
        history=store_ranking.history(session, newsletter_date, config.novelty_editions),
        editor=editor,
    )
    return selection, articles, start, cutoff


def plan(
    session: Session,
    settings: Settings,
    newsletter_date: date,
    now: datetime,
    *,
    personalize: bool = False,
) -> EditionPlan:
    """The edition for a date: the frozen one if sending started, else ranked afresh.

    With ``personalize`` the subscribers' preference sets are read and the
    variants planned (at most ranking.max_variants, see digest.rank.variants).
    """
    edition = get(session, newsletter_date)
    if edition is not None and edition.frozen_at is not None:
        return _frozen_plan(edition)
    selection, articles, start, cutoff = rank_window(session, settings, newsletter_date, now)
    items = [_planned(chosen, articles) for chosen in selection.items]
    thin = selection.thin_day
    variants: tuple[PlanVariant, ...] = ()
    if personalize and not selection.skipped:
        variants = _variants(session, settings, selection, articles, items)
    return EditionPlan(
        newsletter_date,
        start,
        cutoff,
        items,
        len(articles),
        edition,
        selection=selection,
        thin_reason=thin.reason if thin else None,
        skipped=selection.skipped,
        variants=variants,
    )


def _variants(
    session: Session,
    settings: Settings,
    selection: EditionSelection,
    articles: Mapping[int, Article],
    full: list[PlannedItem],
) -> tuple[PlanVariant, ...]:
    counts = store_ranking.preference_counts(session)
    if not any(p != EVERYTHING for p in counts):
        return ()
    variant_plan = build_variants(
        counts, max_variants=settings.ranking.max_variants, topics=settings.newsletter.topics
    )
    selections = select_variants(selection, variant_plan)
    result = []
    for variant in variant_plan.variants:
        if variant.key == DEFAULT_KEY:
            continue
        chosen = [_planned(c, articles) for c in selections[variant.key].items]
        result.append(
            PlanVariant(
                variant.key, variant.preference, variant.subscribers, chosen or full, not chosen
            )
        )
    return tuple(result)


def _frozen_plan(edition: Edition) -> EditionPlan:
    assert edition.window_start is not None and edition.cutoff_at is not None
    by_variant: dict[str, list[PlannedItem]] = {}
    for row in edition.items:
        by_variant.setdefault(row.variant, []).append(PlannedItem.from_row(row))
    items = by_variant.pop(DEFAULT_KEY, [])
    stored: dict[str, EditionVariant] = {}
    for rendering in edition.variants:
        if rendering.preference is not None:
            stored.setdefault(rendering.key.partition(":")[2], rendering)
    variants = tuple(
        PlanVariant(
            key,
            store_ranking.preference_from_json(stored[key].preference),
            int((stored[key].preference or {}).get("subscribers", 0)),
            rows,
            bool((stored[key].preference or {}).get("fallback", False)),
        )
        for key, rows in sorted(by_variant.items())
        if key in stored
    )
    return EditionPlan(
        edition.newsletter_date,
        edition.window_start,
        edition.cutoff_at,
        items,
        len(items),
        edition,
        thin_reason=edition.thin_reason,
        variants=variants,
    )


def _preference_json(variant: PlanVariant) -> dict[str, Any]:
    return {
        "topics": sorted(variant.preference.topics),
        "muted_sources": sorted(variant.preference.muted_sources),
        "subscribers": variant.subscribers,
        "fallback": variant.fallback,
    }


def skip(session: Session, edition_plan: EditionPlan, *, now: datetime) -> Edition:
    """Record a skipped thin day (nothing is frozen: a later manual send ranks again)."""
    edition = edition_plan.edition or get(session, edition_plan.newsletter_date)
    if edition is None:
        edition = Edition(newsletter_date=edition_plan.newsletter_date, created_at=now)
        session.add(edition)
    edition.status = EditionStatus.SKIPPED
    edition.window_start = edition_plan.window_start
    edition.cutoff_at = edition_plan.cutoff
    edition.thin_reason = edition_plan.thin_reason
    session.flush()
    return edition


def freeze(
    session: Session,
    settings: Settings,
    edition_plan: EditionPlan,
    renderings: Mapping[str, RenderedEdition],
    *,
    now: datetime,
) -> Edition:
    """Store the plan and its renderings and mark the edition as sending.

    ``renderings`` are keyed by :func:`rendered_key`: one per language for the
    full edition and per language and personalized variant. Idempotent: an
    edition that is already frozen is returned unchanged.
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
    edition.thin_reason = edition_plan.thin_reason
    rows = [
        EditionItem(
            variant=DEFAULT_KEY,
            position=position,
            article_id=planned.article_id,
            score=planned.score,
            snapshot=planned.snapshot(),
        )
        for position, planned in enumerate(edition_plan.items, start=1)
    ]
    preferences: dict[str, dict[str, Any]] = {}
    for variant in edition_plan.variants:
        preferences[variant.key] = _preference_json(variant)
        rows += [
            EditionItem(
                variant=variant.key,
                position=position,
                article_id=planned.article_id,
                score=planned.score,
                snapshot=planned.snapshot(),
            )
            for position, planned in enumerate(variant.items, start=1)
        ]
    edition.items = rows
    edition.variants = [
        EditionVariant(
            key=key,
            language=key.partition(":")[0],
            subject=rendered.subject,
            preheader=rendered.preheader,
            html=rendered.html,
            text=rendered.text,
            preference=preferences.get(key.partition(":")[2]) if ":" in key else None,
        )
        for key, rendered in sorted(renderings.items())
    ]
    session.flush()
    return edition


def variants_of(edition: Edition) -> dict[str, RenderedEdition]:
    """The renderings stored when the edition froze, by :func:`rendered_key`."""
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
    """The full edition's rendering for a language: theirs if rendered, else the default."""
    if language in variants:
        return str(language)
    return default if default in variants else min(k for k in variants if ":" not in k)


class VariantChooser:
    """Which stored rendering each subscriber gets: their language × their preference variant.

    A subscriber whose preference set was planned gets its variant; one who
    changed it since the edition froze gets the nearest stored one, by the same
    rule that merged rare sets (digest.rank.variants.nearest).
    """

    def __init__(self, edition: Edition, settings: Settings) -> None:
        renderings = variants_of(edition)
        self._renderings = renderings
        self._default = settings.newsletter.language
        self._languages: dict[str | None, str] = {}
        self._counts: dict[PreferenceSet, int] = {}
        self._keys: dict[PreferenceSet, str] = {EVERYTHING: DEFAULT_KEY}
        for rendering in edition.variants:
            if rendering.preference is not None:
                preference = store_ranking.preference_from_json(rendering.preference)
                key = rendering.key.partition(":")[2]
                self._keys[preference] = key
                self._counts[preference] = int(rendering.preference.get("subscribers", 0))
        self._universe = frozenset(settings.newsletter.topics).union(
            *(p.topics for p in self._keys)
        )
        self.personalized = len(self._keys) > 1

    def language_key(self, language: str | None) -> str:
        key = self._languages.get(language)
        if key is None:
            key = variant_key(self._renderings, language, self._default)
            self._languages[language] = key
        return key

    def key(
        self,
        language: str | None,
        topics: Iterable[str] | None = None,
        muted_sources: Iterable[str] | None = None,
    ) -> str:
        base = self.language_key(language)
        if not self.personalized or not (topics or muted_sources):
            return base
        preference = store_ranking.preference(topics, muted_sources)
        variant = self._keys.get(preference)
        if variant is None:
            target = nearest(preference, list(self._keys), self._counts, self._universe)
            variant = self._keys[target]
            self._keys[preference] = variant
        key = rendered_key(base, variant)
        return key if key in self._renderings else base
