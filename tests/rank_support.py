"""The labelled story fixtures (tests/data/rank/stories.yaml) as candidates and pairs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from digest.rank import Candidate

FIXTURES = Path(__file__).parent / "data" / "rank" / "stories.yaml"
REFERENCE = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Fixtures:
    articles: tuple[dict[str, Any], ...]
    # Labelled pairs of article ids (smaller first).
    same: frozenset[tuple[int, int]]
    different: frozenset[tuple[int, int]]
    # Every cross-story pair (the labelled ones included).
    all_different: frozenset[tuple[int, int]]

    def story_of(self, article_id: int) -> str:
        return next(a["story"] for a in self.articles if a["id"] == article_id)


@cache
def fixtures() -> Fixtures:
    data = yaml.safe_load(FIXTURES.read_text(encoding="utf-8"))
    articles = tuple(sorted(data["articles"], key=lambda a: a["id"]))
    same, all_different = set(), set()
    for a, b in itertools.combinations(articles, 2):
        pair = (a["id"], b["id"])
        (same if a["story"] == b["story"] else all_different).add(pair)
    different = set()
    for first, second, *_why in data["hard_negatives"]:
        for a in articles:
            for b in articles:
                if a["story"] == first and b["story"] == second:
                    different.add((min(a["id"], b["id"]), max(a["id"], b["id"])))
    return Fixtures(articles, frozenset(same), frozenset(different), frozenset(all_different))


def candidate(article: dict[str, Any], *, own_sources: frozenset[str] = frozenset()) -> Candidate:
    return Candidate(
        id=article["id"],
        url=f"https://{article['source'].lower().replace(' ', '-')}.example/{article['id']}",
        title=article["title"],
        text=article["text"],
        language=article["language"],
        published_at=REFERENCE - timedelta(hours=float(article["hours"])),
        source=article["source"],
        topics=tuple(article.get("topics", ())),
        own_site=article["source"] in own_sources,
    )


def candidates(*, own_sources: frozenset[str] = frozenset()) -> list[Candidate]:
    return [candidate(a, own_sources=own_sources) for a in fixtures().articles]
