"""The signals behind a candidate's score, each a pure function of its inputs.

score = (recency + priority_weight × priority + popularity_weight × popularity
         + coverage_weight × coverage)
        × source_weight × topic_weight × novelty × editor_boost

* recency: 1.0 at ``now``, halving every ``half_life`` (see :func:`scoring.recency`).
* priority: the article's editorial priority as stored (0 = normal).
* popularity: log-scaled reach, 0 (none) to 1 (``popularity_scale`` or more).
* coverage: log2 of the number of distinct sources reporting the story, so a
  story three outlets carry beats an otherwise equal exclusive a little.
* source_weight, topic_weight: configured multipliers (1.0 by default).
* novelty: 1.0, or ``updated_factor`` for an article sent before and changed since.
* editor_boost: the editor's multiplier for this edition (1.0 by default).

With the defaults and no popularity, coverage or editor input this is exactly
the old ``scoring.score``: source_weight × (recency + priority_weight × priority).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from digest.rank.model import RankingConfig
from digest.rank.scoring import Candidate, recency

ADDITIVE = ("recency", "priority", "popularity", "coverage")
MULTIPLIERS = ("source_weight", "topic_weight", "novelty", "editor_boost")


def popularity(candidate: Candidate, config: RankingConfig) -> float:
    reach = max(candidate.popularity, 0.0) + config.click_weight * max(candidate.clicks, 0.0)
    if reach <= 0:
        return 0.0
    return min(math.log1p(reach) / math.log1p(config.popularity_scale), 1.0)


def coverage(sources: int) -> float:
    return math.log2(sources) if sources > 1 else 0.0


def source_weight(candidate: Candidate, config: RankingConfig) -> float:
    return config.source_weights.get(candidate.source or "", config.default_source_weight)


def topic_weight(topics: tuple[str, ...], config: RankingConfig) -> float:
    """The highest weight among the article's topics; unweighted topics count 1.0."""
    if not topics or not config.topic_weights:
        return 1.0
    return max(config.topic_weights.get(topic, 1.0) for topic in topics)


def signals(
    candidate: Candidate,
    *,
    now: datetime,
    config: RankingConfig,
    sources_in_story: int = 1,
    novelty: float = 1.0,
    editor_boost: float = 1.0,
) -> dict[str, float]:
    """Every signal's raw value, by name (the keys of ADDITIVE and MULTIPLIERS)."""
    return {
        "recency": recency(candidate.published_at, now, config.half_life),
        "priority": candidate.priority,
        "popularity": popularity(candidate, config),
        "coverage": coverage(sources_in_story),
        "source_weight": source_weight(candidate, config),
        "topic_weight": topic_weight(candidate.topics, config),
        "novelty": novelty,
        "editor_boost": editor_boost,
    }


def _weights(config: RankingConfig) -> dict[str, float]:
    return {
        "recency": 1.0,
        "priority": config.priority_weight,
        "popularity": config.popularity_weight,
        "coverage": config.coverage_weight,
    }


def score(values: Mapping[str, float], config: RankingConfig) -> float:
    weights = _weights(config)
    base = sum(weights[name] * values[name] for name in ADDITIVE)
    return base * math.prod(values[name] for name in MULTIPLIERS)


def contributions(values: Mapping[str, float], config: RankingConfig) -> dict[str, float]:
    """How many points of the score each additive signal brought (they sum to the score).

    The multipliers are applied to every part, so the parts add up exactly.
    """
    weights = _weights(config)
    factor = math.prod(values[name] for name in MULTIPLIERS)
    return {name: weights[name] * values[name] * factor for name in ADDITIVE}


class Scorer:
    """:func:`signals` and :func:`score` for many candidates, with the config read once."""

    def __init__(self, *, now: datetime, config: RankingConfig) -> None:
        self._now = now.timestamp()
        self._half_life = config.half_life.total_seconds()
        self._config = config
        self._weights = _weights(config)
        self._log_scale = math.log1p(config.popularity_scale)

    def __call__(
        self,
        candidate: Candidate,
        *,
        sources_in_story: int = 1,
        novelty: float = 1.0,
        editor_boost: float = 1.0,
    ) -> tuple[float, dict[str, float]]:
        config, weights = self._config, self._weights
        age = max(self._now - candidate.published_at.timestamp(), 0.0)
        fresh = float(0.5 ** (age / self._half_life))
        reach = max(candidate.popularity, 0.0) + config.click_weight * max(candidate.clicks, 0.0)
        popular = min(math.log1p(reach) / self._log_scale, 1.0) if reach > 0 else 0.0
        spread = math.log2(sources_in_story) if sources_in_story > 1 else 0.0
        source = config.source_weights.get(candidate.source or "", config.default_source_weight)
        topic = topic_weight(candidate.topics, config)
        values = {
            "recency": fresh,
            "priority": candidate.priority,
            "popularity": popular,
            "coverage": spread,
            "source_weight": source,
            "topic_weight": topic,
            "novelty": novelty,
            "editor_boost": editor_boost,
        }
        base = (
            fresh
            + weights["priority"] * candidate.priority
            + weights["popularity"] * popular
            + weights["coverage"] * spread
        )
        return base * source * topic * novelty * editor_boost, values
