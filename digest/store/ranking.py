"""What the ranking reads from the store: candidates, history, clicks, editor decisions.

The ranking itself (:mod:`digest.rank`) is pure; these queries turn stored
rows into its inputs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from digest.events import EventType
from digest.rank import Candidate, EditorActions, History, PreferenceSet, SentItem
from digest.rank.topics import TopicAssignment, TopicMapper
from digest.store.models import (
    Article,
    Edition,
    EditionItem,
    EditionStatus,
    EditorAction,
    EditorDecision,
    ProviderEvent,
    Subscriber,
    SubscriberStatus,
)

# Characters of the body given to the ranking after the teaser: clustering
# reads the first ranking.cluster.text_chars of title + text, so more is waste.
BODY_CHARS = 2000
# URLs per IN (...) list: far below every database's limit on bound parameters.
_CHUNK = 500


def candidate(article: Article, clicks: int = 0, topics: TopicMapper | None = None) -> Candidate:
    """The ranking's view of a stored article.

    The stored ``topics`` are the categories the source gave; with a mapper
    they become the newsletter's topics (and the rest is kept as unmapped).
    """
    teaser, body = article.teaser, article.body_text[:BODY_CHARS]
    # A teaser taken from the lead would be read twice and crowd out the
    # next paragraph, where a report's names and figures usually are.
    if teaser and not body.startswith(teaser.rstrip(".… ")[:80]):
        text = f"{teaser}\n{body}" if body else teaser
    else:
        text = body or teaser
    categories = tuple(article.topics or ())
    assigned = (
        topics.assign(categories, article.url, article.title, text)
        if topics is not None
        else TopicAssignment(categories, tuple("category" for _ in categories))
    )
    return Candidate(
        id=article.id,
        url=article.canonical_url,
        title=article.title,
        published_at=article.published_at,
        source=article.source,
        priority=article.priority,
        topics=assigned.topics,
        topic_origins=assigned.origins,
        unmapped_categories=assigned.unmapped,
        text=text,
        language=article.language,
        popularity=article.views or 0.0,
        clicks=float(clicks),
        content_hash=article.content_hash,
        date_estimate=article.published_at_estimate,
    )


def clicks_by_article(session: Session, articles: Sequence[Article]) -> dict[int, int]:
    """Clicks on each article's link in earlier editions (from stored provider events)."""
    by_url: dict[str, int] = {}
    for article in articles:
        by_url.setdefault(article.url, article.id)
        by_url.setdefault(article.canonical_url, article.id)
    urls = list(by_url)
    clicks: Counter[int] = Counter()
    for start in range(0, len(urls), _CHUNK):
        rows = session.execute(
            select(ProviderEvent.url, func.count())
            .where(
                ProviderEvent.event == EventType.CLICKED,
                ProviderEvent.url.in_(urls[start : start + _CHUNK]),
            )
            .group_by(ProviderEvent.url)
        )
        for url, count in rows:
            if url is not None:
                clicks[by_url[url]] += int(count)
    return dict(clicks)


def history(session: Session, newsletter_date: date, editions: int) -> History:
    """Items of the latest ``editions`` editions before the date that went out (or are going)."""
    if editions <= 0:
        return History()
    dates = session.scalars(
        select(Edition.newsletter_date)
        .where(
            Edition.newsletter_date < newsletter_date,
            Edition.frozen_at.is_not(None),
            Edition.status.in_([EditionStatus.SENDING, EditionStatus.SENT]),
        )
        .order_by(Edition.newsletter_date.desc())
        .limit(editions)
    ).all()
    if not dates:
        return History()
    rows = session.execute(
        select(Edition.newsletter_date, EditionItem.article_id, EditionItem.snapshot)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .where(Edition.newsletter_date.in_(dates))
        .order_by(Edition.newsletter_date, EditionItem.variant, EditionItem.position)
    )
    sent: list[SentItem] = []
    seen: set[tuple[date, int | str | None]] = set()
    for edition_date, article_id, snapshot in rows:
        # Personalized variants repeat the main edition's items: once is enough.
        key = (edition_date, article_id if article_id is not None else snapshot.get("url"))
        if key in seen:
            continue
        seen.add(key)
        sent.append(
            SentItem(
                edition_date=edition_date,
                article_id=article_id,
                url=str(snapshot.get("canonical_url") or snapshot.get("url") or ""),
                content_hash=str(snapshot.get("content_hash") or ""),
                title=str(snapshot.get("title") or ""),
                text=str(snapshot.get("teaser") or ""),
                language=snapshot.get("language"),
            )
        )
    return History(tuple(sent))


def editor_actions(session: Session, newsletter_date: date) -> EditorActions:
    decisions = session.scalars(
        select(EditorDecision).where(EditorDecision.newsletter_date == newsletter_date)
    ).all()
    return EditorActions(
        pins=frozenset(d.article_id for d in decisions if d.action == EditorAction.PIN),
        boosts={d.article_id: d.factor or 1.0 for d in decisions if d.action == EditorAction.BOOST},
        drops=frozenset(d.article_id for d in decisions if d.action == EditorAction.DROP),
    )


def preference(topics: Iterable[str] | None, muted_sources: Iterable[str] | None) -> PreferenceSet:
    return PreferenceSet(frozenset(topics or ()), frozenset(muted_sources or ()))


def preference_counts(session: Session) -> Counter[PreferenceSet]:
    """Active subscribers by preference set (topics chosen, sources muted)."""
    # JSON has no equality on PostgreSQL: group by its text. Different orders
    # of the same topics are one set once read.
    topics_text = cast(Subscriber.topics, String)
    muted_text = cast(Subscriber.muted_sources, String)
    rows = session.execute(
        select(topics_text, muted_text, func.count())
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .group_by(topics_text, muted_text)
    )
    counts: Counter[PreferenceSet] = Counter()
    for topics, muted, count in rows:
        counts[preference(_json_list(topics), _json_list(muted))] += int(count)
    return counts


def _json_list(value: str | None) -> list[str]:
    if not value:
        return []
    loaded = json.loads(value)
    return [str(v) for v in loaded] if isinstance(loaded, list) else []


def preference_from_json(data: Mapping[str, object] | None) -> PreferenceSet:
    if not data:
        return PreferenceSet()
    topics = data.get("topics")
    muted = data.get("muted_sources")
    return preference(
        [str(t) for t in topics] if isinstance(topics, list) else (),
        [str(m) for m in muted] if isinstance(muted, list) else (),
    )


def recent_categories(session: Session, since: datetime) -> Counter[str]:
    """How many articles published since then carry each stored category."""
    counts: Counter[str] = Counter()
    rows = session.execute(
        select(Article.topics)
        .where(Article.published_at >= since)
        .execution_options(yield_per=2000)
    )
    for (topics,) in rows:
        counts.update(set(topics or ()))
    return counts
