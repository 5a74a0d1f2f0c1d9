"""Benchmark: rank 10,000 and 100,000 synthetic candidates; print clustering quality.

    .venv/bin/python benchmarks/rank.py [--sizes 10000 100000] [--repeat 2] [--seed 7]

Targets on the 2-core reference machine: at most 1 s for 10,000 candidates and
10 s for 100,000, and the 100k time at most 12 times the 10k time. Beside the
times it prints the pairwise precision and recall of story clustering, and the
stories shown once, on the project's labelled fixtures
(tests/data/rank/stories.yaml, and the hard cross-language ones in
tests/data/rank/hard_stories.yaml), and on the planted stories of the
synthetic batch.

The synthetic articles are made from seeded random vocabularies: German-like
and English-like common words (Zipf-distributed), capitalized names and
figures shared by both languages, ~150 words each plus a title. About 35 % of
the articles belong to planted stories of 2-6 reports from different sources
and languages that share most of their names and figures but not their wording;
the rest are single articles. Texts are built before the clock starts.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.rank import (  # noqa: E402
    Candidate,
    ClusterParams,
    Document,
    RankingConfig,
    find_stories,
    select_edition,
)

NOW = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
FIXTURES = ROOT / "tests" / "data" / "rank" / "stories.yaml"
HARD_FIXTURES = ROOT / "tests" / "data" / "rank" / "hard_stories.yaml"
TOPICS = ("KI", "Robotik", "Chips", "Politik", "Forschung", "Start-ups", "Sicherheit", "Mobilität")
SYLLABLES = [
    "ka",
    "ri",
    "to",
    "ma",
    "ne",
    "lo",
    "sa",
    "ve",
    "en",
    "ur",
    "ba",
    "de",
    "li",
    "mo",
    "ra",
    "te",
    "an",
    "or",
    "ge",
    "ku",
    "fi",
    "sch",
    "ter",
    "ber",
    "ung",
    "hal",
    "won",
    "dra",
    "pel",
    "sto",
    "mer",
    "vin",
    "cal",
    "tra",
    "ble",
    "qui",
    "zen",
    "lar",
    "dor",
    "fen",
    "gri",
    "hof",
]


def _words(rng: np.random.Generator, count: int, *, capital: bool) -> list[str]:
    seen: set[str] = set()
    result: list[str] = []
    while len(result) < count:
        parts = rng.integers(0, len(SYLLABLES), size=int(rng.integers(2, 5)))
        word = "".join(SYLLABLES[p] for p in parts)
        if capital:
            word = word.capitalize()
        if word not in seen:
            seen.add(word)
            result.append(word)
    return result


class Corpus:
    def __init__(self, seed: int, size: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.common = {
            "de": _words(self.rng, 12_000, capital=False),
            "en": _words(self.rng, 12_000, capital=False),
        }
        # Names grow with the corpus as vocabularies do (Heaps' law, exponent
        # ~0.6): 60,000 for 10,000 articles, ~240,000 for 100,000.
        self.names = _words(self.rng, int(60_000 * (size / 10_000) ** 0.6), capital=True)
        ranks = np.arange(1, 12_001)
        self.zipf = (1 / ranks) / (1 / ranks).sum()

    def _common(self, language: str, count: int) -> list[str]:
        picks = self.rng.choice(12_000, size=count, p=self.zipf)
        words = self.common[language]
        return [words[i] for i in picks]

    def story(self) -> dict[str, list[str]]:
        """A story's specifics: names, figures, and topic words in each language."""
        rng = self.rng
        names = [self.names[i] for i in rng.integers(0, len(self.names), size=8)]
        figures = [f"{int(v):,}".replace(",", ".") for v in rng.integers(10, 90_000, size=4)]
        # Mid-frequency words: the story's own vocabulary ("wafer", "pilot line").
        words = {
            language: [self.common[language][i] for i in rng.integers(300, 12_000, size=12)]
            for language in ("de", "en")
        }
        return {"names": names, "figures": figures, **words}

    def article(self, language: str, story: dict[str, list[str]]) -> tuple[str, str]:
        """Title, lead naming the main actors and figures, then ~120 words of body.

        Each report keeps most of the story's names and figures (as real reports
        of one event do) but has its own wording.
        """
        rng = self.rng
        names = [n for n in story["names"] if rng.random() < 0.8] or story["names"][:2]
        figures = [f for f in story["figures"] if rng.random() < 0.7] or story["figures"][:1]
        topic_words = [w for w in story[language] if rng.random() < 0.6]
        title = " ".join([names[0], *self._common(language, 5), *topic_words[:1], names[-1]])
        # News leads are dense with specifics: who, where, how much.
        lead = self._common(language, 16) + names[:5] + figures[:3] + topic_words[:3]
        body = self._common(language, 110)
        for token in names + names[:3] + figures + topic_words:
            body.insert(int(rng.integers(0, len(body))), token)
        order = rng.permutation(len(lead))
        lead = [lead[i] for i in order]
        words = lead + body
        sentences = [" ".join(words[i : i + 16]) for i in range(0, len(words), 16)]
        text = ". ".join(s[:1].upper() + s[1:] for s in sentences) + "."
        return title, text


def synthetic(size: int, seed: int) -> tuple[list[Candidate], list[int]]:
    """Candidates and, per candidate, its planted story number."""
    corpus = Corpus(seed, size)
    rng = corpus.rng
    sources = [f"Source {i:02d}" for i in range(40)]
    candidates: list[Candidate] = []
    labels: list[int] = []
    story = 0
    while len(candidates) < size:
        reports = int(rng.integers(2, 7)) if rng.random() < 0.12 else 1
        story_words = corpus.story()
        hours = float(rng.uniform(0, 24))
        topic = TOPICS[int(rng.integers(0, len(TOPICS)))]
        for _ in range(min(reports, size - len(candidates))):
            language = "de" if rng.random() < 0.6 else "en"
            title, text = corpus.article(language, story_words)
            identifier = len(candidates) + 1
            candidates.append(
                Candidate(
                    id=identifier,
                    url=f"https://news.example/{identifier}",
                    title=title,
                    text=text,
                    language=language,
                    published_at=NOW - timedelta(hours=hours + float(rng.uniform(0, 3))),
                    source=sources[min(int(rng.zipf(1.6)) - 1, len(sources) - 1)],
                    priority=float(rng.random() < 0.05),
                    topics=(topic,),
                    popularity=float(rng.integers(0, 5_000)),
                )
            )
            labels.append(story)
        story += 1
    return candidates, labels


def pair_quality(labels: Sequence[int], truth: Sequence[object]) -> tuple[float, float, int, int]:
    """Pairwise precision and recall of predicted clusters against true stories."""
    predicted: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        predicted.setdefault(label, []).append(index)
    true_pairs: set[tuple[int, int]] = set()
    by_truth: dict[object, list[int]] = {}
    for index, story in enumerate(truth):
        by_truth.setdefault(story, []).append(index)
    for members in by_truth.values():
        true_pairs.update(itertools.combinations(members, 2))
    found = {pair for members in predicted.values() for pair in itertools.combinations(members, 2)}
    hits = len(found & true_pairs)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    return precision, recall, len(true_pairs), len(found)


@dataclass(frozen=True)
class FixtureQuality:
    """Clustering quality on a labelled fixture file."""

    articles: int
    precision: float
    recall: float
    # Same-story pairs, and pairs in predicted clusters.
    positives: int
    found: int
    # Stories with two or more reports, and those shown once: one predicted
    # cluster holding exactly their reports.
    reported: int
    shown_once: int
    # Labelled hard-negative pairs (see the fixture), and how many were merged.
    hard_negatives: int
    merged_negatives: int

    def line(self, name: str) -> str:
        return (
            f"{name}: precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"shown once {self.shown_once}/{self.reported} stories  "
            f"({self.articles} articles, {self.positives} same-story pairs, {self.found} "
            f"predicted; hard negatives merged {self.merged_negatives}/{self.hard_negatives})"
        )


def fixture_quality(path: Path) -> FixtureQuality:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    articles = sorted(data["articles"], key=lambda a: a["id"])
    documents = [
        Document(
            f"{a['title']}\n{a['text']}", a["language"], NOW - timedelta(hours=float(a["hours"]))
        )
        for a in articles
    ]
    result = find_stories(documents, ClusterParams())
    stories = [a["story"] for a in articles]
    precision, recall, positives, found = pair_quality(result.labels, stories)
    clusters: dict[int, set[int]] = {}
    truth: dict[str, set[int]] = {}
    for index, (label, story) in enumerate(zip(result.labels, stories, strict=True)):
        clusters.setdefault(label, set()).add(index)
        truth.setdefault(story, set()).add(index)
    predicted = [frozenset(members) for members in clusters.values()]
    reported = [frozenset(members) for members in truth.values() if len(members) > 1]
    label_of = result.labels
    negatives = merged = 0
    for first, second, *_why in data.get("hard_negatives", []):
        for a, b in itertools.product(truth[first], truth[second]):
            negatives += 1
            merged += label_of[a] == label_of[b]
    return FixtureQuality(
        articles=len(articles),
        precision=precision,
        recall=recall,
        positives=positives,
        found=found,
        reported=len(reported),
        shown_once=sum(1 for members in reported if members in predicted),
        hard_negatives=negatives,
        merged_negatives=merged,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(fixture_quality(FIXTURES).line("fixtures"))
    print(fixture_quality(HARD_FIXTURES).line("hard fixtures"))
    config = RankingConfig()
    times: dict[int, float] = {}
    for size in args.sizes:
        candidates, truth = synthetic(size, args.seed)
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            selection = select_edition(candidates, now=NOW, config=config)
            runs.append(time.perf_counter() - start)
        times[size] = min(runs)
        story_of = {item.candidate.id: s.id for s in selection.stories for item in s.members}
        sp, sr, _, _ = pair_quality([story_of[c.id] for c in candidates], truth)
        print(
            f"{size:>7} candidates: "
            + "  ".join(f"{t:.2f} s" for t in runs)
            + f"  (best {times[size]:.2f} s; {len(selection.stories)} stories, "
            f"{selection.pool.candidate_pairs} LSH pairs, {len(selection.items)} items; "
            f"planted stories: precision {sp:.3f} recall {sr:.3f})"
        )
    if len(times) >= 2:
        small, large = min(times), max(times)
        print(f"ratio {large}/{small}: {times[large] / times[small]:.1f}")


if __name__ == "__main__":
    main()
