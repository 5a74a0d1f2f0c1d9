from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from digest.rank import Candidate, RankingParams, rank, recency, select

NOW = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
PARAMS = RankingParams(max_items=3, half_life=timedelta(hours=8), priority_weight=0.25)


def cand(i: int, hours_ago: float, *, source: str = "A", priority: float = 0) -> Candidate:
    return Candidate(
        id=i,
        url=f"https://news.example/{i}",
        title=f"Article {i}",
        published_at=NOW - timedelta(hours=hours_ago),
        source=source,
        priority=priority,
    )


def test_recency_halves_every_half_life() -> None:
    half = timedelta(hours=8)
    assert recency(NOW, NOW, half) == 1.0
    assert recency(NOW - half, NOW, half) == pytest.approx(0.5)
    assert recency(NOW - 2 * half, NOW, half) == pytest.approx(0.25)
    assert recency(NOW + timedelta(hours=1), NOW, half) == 1.0


def test_newer_beats_older_and_priority_lifts() -> None:
    ranked = rank([cand(1, 10), cand(2, 1), cand(3, 20, priority=4)], now=NOW, params=PARAMS)
    assert [r.candidate.id for r in ranked] == [3, 2, 1]
    top = ranked[0]
    assert top.signals["priority"] == 4
    assert top.score == pytest.approx(0.5 ** (20 / 8) + 1.0)


def test_source_weight_multiplies() -> None:
    params = RankingParams(
        max_items=3, half_life=timedelta(hours=8), priority_weight=0.25, source_weights={"B": 3.0}
    )
    ranked = rank([cand(1, 1, source="A"), cand(2, 8, source="B")], now=NOW, params=params)
    assert [r.candidate.id for r in ranked] == [2, 1]
    assert ranked[0].signals["source_weight"] == 3.0


def test_select_takes_max_items() -> None:
    chosen = select([cand(i, i) for i in range(1, 10)], now=NOW, params=PARAMS)
    assert [c.candidate.id for c in chosen] == [1, 2, 3]


def test_ties_are_broken_deterministically_whatever_the_input_order() -> None:
    same_time = [cand(i, 2) for i in range(20)]
    expected = [r.candidate.id for r in rank(same_time, now=NOW, params=PARAMS)]
    assert expected == sorted(expected, key=lambda i: f"https://news.example/{i}")
    for seed in range(5):
        shuffled = same_time[:]
        random.Random(seed).shuffle(shuffled)
        assert [r.candidate.id for r in rank(shuffled, now=NOW, params=PARAMS)] == expected


def test_empty_input() -> None:
    assert select([], now=NOW, params=PARAMS) == []
