"""Scoring: pure functions from candidates and a clock to an ordered list.

score = source_weight × (recency + priority_weight × priority)
recency = 0.5 ** (age / half_life), 1.0 for an article published at the cutoff.

Later stages (story clustering, diversity, personalization) wrap this; they
take the same ``Candidate`` and return the same ``Ranked`` so callers don't change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Candidate:
    """What ranking needs to know about an article.

    The fields after ``topics`` feed story clustering and the signals of
    :func:`digest.rank.select_edition`; :func:`rank` reads only the first ones.
    """

    id: int
    url: str
    title: str
    published_at: datetime
    source: str | None = None
    priority: float = 0.0
    topics: tuple[str, ...] = ()
    # Teaser and the start of the body: what story clustering compares (the
    # title is added to it). A few hundred words are plenty.
    text: str = ""
    language: str | None = None
    # Views (or any reach figure) stored with the article, and clicks it got in
    # earlier editions.
    popularity: float = 0.0
    clicks: float = 0.0
    # Tells "updated since it was sent" from "the same again".
    content_hash: str = ""
    # From the publisher's own site (also true for sources in own_sources).
    own_site: bool = False
    # Where each of ``topics`` came from (same order; see digest.rank.topics),
    # and the article's categories that reach none of the newsletter's topics.
    topic_origins: tuple[str, ...] = ()
    unmapped_categories: tuple[str, ...] = ()
    # None: the article's own date. Else how ``published_at`` was estimated at
    # ingest ("ingest", "feed", "http", "page_text"), for explanations.
    date_estimate: str | None = None


@dataclass(frozen=True)
class RankingParams:
    max_items: int
    half_life: timedelta
    priority_weight: float
    source_weights: Mapping[str, float] = field(default_factory=dict)
    default_source_weight: float = 1.0


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float
    # Each signal's contribution, for `digest rank` and later explanations.
    signals: Mapping[str, float]


def recency(published_at: datetime, now: datetime, half_life: timedelta) -> float:
    """1.0 at ``now``, 0.5 one half-life earlier; future timestamps count as now."""
    age = max((now - published_at).total_seconds(), 0.0)
    return float(0.5 ** (age / half_life.total_seconds()))


def score(candidate: Candidate, *, now: datetime, params: RankingParams) -> Ranked:
    fresh = recency(candidate.published_at, now, params.half_life)
    weight = params.source_weights.get(candidate.source or "", params.default_source_weight)
    value = weight * (fresh + params.priority_weight * candidate.priority)
    signals = {"recency": fresh, "priority": candidate.priority, "source_weight": weight}
    return Ranked(candidate=candidate, score=value, signals=signals)


def _order(item: Ranked) -> tuple[float, float, str, int]:
    # Higher score first; among equals the newer article, then URL and id so
    # the same input always yields the same order on every database.
    return (
        -item.score,
        -item.candidate.published_at.timestamp(),
        item.candidate.url,
        item.candidate.id,
    )


def rank(candidates: Iterable[Candidate], *, now: datetime, params: RankingParams) -> list[Ranked]:
    """All candidates scored and ordered; the edition takes the first ``max_items``."""
    scored = [score(candidate, now=now, params=params) for candidate in candidates]
    return sorted(scored, key=_order)


def select(
    candidates: Iterable[Candidate], *, now: datetime, params: RankingParams
) -> list[Ranked]:
    """The top ``max_items`` of :func:`rank`."""
    return rank(candidates, now=now, params=params)[: params.max_items]
