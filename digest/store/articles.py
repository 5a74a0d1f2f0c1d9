"""Article queries: idempotent upsert by canonical URL, and the ranking window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.store.models import Article

UpsertOutcome = Literal["added", "updated", "unchanged"]


@dataclass(frozen=True)
class ArticleData:
    """A cleaned article, ready to store. Produced by digest.ingest."""

    canonical_url: str
    url: str
    title: str
    teaser: str
    body_html: str
    body_text: str
    published_at: datetime
    content_hash: str
    author: str | None = None
    source: str | None = None
    language: str | None = None
    topics: list[str] = field(default_factory=list)
    image_url: str | None = None
    image_alt: str | None = None
    priority: float = 0.0
    views: float = 0.0
    # None: the article's own date. Else how it was estimated (digest.ingest.DateEstimate).
    published_at_estimate: str | None = None


_FIELDS = (
    "url",
    "title",
    "teaser",
    "body_html",
    "body_text",
    "published_at",
    "content_hash",
    "author",
    "source",
    "language",
    "topics",
    "image_url",
    "image_alt",
    "priority",
    "views",
    "published_at_estimate",
)
# An estimated date never replaces a stored one: re-ingesting an undated entry
# would otherwise move it forward every time, and an old item would look new forever.
_DATE_FIELDS = frozenset({"published_at", "published_at_estimate"})


def upsert_article(session: Session, data: ArticleData, *, now: datetime) -> UpsertOutcome:
    """Insert the article, or update the stored one with the same canonical URL.

    A stored date stays when ``data`` brings only an estimate; the article's own date,
    once found, replaces a stored estimate.
    """
    existing = session.scalar(select(Article).where(Article.canonical_url == data.canonical_url))
    if existing is None:
        session.add(
            Article(
                canonical_url=data.canonical_url,
                created_at=now,
                updated_at=now,
                **{name: getattr(data, name) for name in _FIELDS},
            )
        )
        session.flush()
        return "added"
    changed = False
    keep_date = data.published_at_estimate is not None
    for name in _FIELDS:
        if keep_date and name in _DATE_FIELDS:
            continue
        value = getattr(data, name)
        if getattr(existing, name) != value:
            setattr(existing, name, value)
            changed = True
    if not changed:
        return "unchanged"
    existing.updated_at = now
    session.flush()
    return "updated"


def articles_in_window(session: Session, start: datetime, end: datetime) -> Sequence[Article]:
    """Articles published in [start, end), oldest first."""
    query = (
        select(Article)
        .where(Article.published_at >= start, Article.published_at < end)
        .order_by(Article.published_at, Article.id)
    )
    return session.scalars(query).all()


def count_articles(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count(Article.id))) or 0
