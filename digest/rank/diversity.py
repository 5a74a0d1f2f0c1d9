"""Variety: maximal marginal relevance under per-source and per-topic caps, then sections.

Greedy MMR (Carbonell & Goldstein, 1998): each next item maximizes

    λ · relevance − (1 − λ) · max similarity to the items already chosen

with relevance = score / best score in the pool (so λ means the same whatever
the scale of scores) and similarity = mean of topic overlap (Jaccard) and text
similarity (IDF cosine, which is high for two stories about one company).

Caps are checked when an item would be chosen: one that would be next but whose
source or primary topic is full is set aside with that reason, and the next
best is taken. So "over the cap" only ever names an item that would otherwise
have made the edition; the rest are simply outranked.

A cap is there for variety, never to shorten the edition. Before choosing, each
cap is raised just as far as needed for the candidates to fill ``max_items``
(:func:`fit_caps`: one source's feed alone fills the edition, two sources share
it evenly); and if caps together still leave it short once every uncapped
candidate is taken, the set-aside items come back, best first, each noted as
kept over its cap. Items without a topic have no topic to cap: "no topic" is
not a topic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

OTHER_SECTION = "other"
TOP_SECTION = "top"


@dataclass(frozen=True)
class Entry:
    """One story's representative as MMR sees it."""

    score: float
    source: str
    # The primary topic; None for an item without one (never capped by topic).
    topic: str | None
    # Caps don't apply (an own source, when own sources are exempt).
    exempt: bool = False
    pinned: bool = False


@dataclass(frozen=True)
class Caps:
    max_per_source: int | None
    max_per_topic: int | None


@dataclass
class Outcome:
    """Indexes into the entries: chosen in order, capped with the cap's kind, MMR values.

    ``caps`` are the caps as applied (raised by :func:`fit_caps` where needed);
    ``over_cap`` names chosen items taken back over a cap because the edition
    would otherwise have stayed short, with the cap's kind.
    """

    chosen: list[int] = field(default_factory=list)
    capped: dict[int, str] = field(default_factory=dict)
    mmr: dict[int, float] = field(default_factory=dict)
    caps: Caps = field(default_factory=lambda: Caps(None, None))
    over_cap: dict[int, str] = field(default_factory=dict)


def primary_topic(topics: Sequence[str], section_order: Sequence[str]) -> str | None:
    """The topic that names an item's section and counts for the topic cap.

    The first of its topics in ``section_order``; else its first topic; else None
    (the item goes to the "other" section and no topic cap applies to it).
    """
    for topic in topics:
        if topic in section_order:
            return topic
    return topics[0] if topics else None


def _fit(counts: Sequence[int], free: int, need: int, cap: int | None) -> int | None:
    """The smallest cap >= ``cap`` with which the counts plus ``free`` reach ``need``.

    ``counts`` are the candidates per source (or topic) the cap applies to, ``free``
    those it does not apply to. When even no cap can reach ``need`` (too few
    candidates), the cap that admits them all. Binary search: a day may bring one
    source with 100,000 items.
    """
    if cap is None or not counts or max(counts) <= cap:
        return cap  # nothing the cap holds back
    if free + sum(min(n, cap) for n in counts) >= need:
        return cap
    low, high = cap, max(counts)  # high admits everything
    while low + 1 < high:
        middle = (low + high) // 2
        if free + sum(min(n, middle) for n in counts) >= need:
            high = middle
        else:
            low = middle
    return high


def fit_caps(entries: Iterable[Entry], *, max_items: int, caps: Caps) -> Caps:
    """The caps raised just enough that each alone cannot leave the edition short.

    With one source's feed, the source cap rises to ``max_items``; with two
    sources it rises until the two together fill the edition, so neither
    takes it all while the other has candidates left.
    """
    sources: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    exempt = untopical = 0
    for entry in entries:
        if entry.exempt:
            exempt += 1
            continue
        sources[entry.source] += 1
        if entry.topic is None:
            untopical += 1
        else:
            topics[entry.topic] += 1
    return Caps(
        _fit(list(sources.values()), exempt, max_items, caps.max_per_source),
        _fit(list(topics.values()), exempt + untopical, max_items, caps.max_per_topic),
    )


def mmr_select(
    entries: Sequence[Entry],
    *,
    pinned: int,
    max_items: int,
    mmr_lambda: float,
    caps: Caps,
    similarity: Callable[[int, int], float],
    pool_size: int,
) -> Outcome:
    """Choose up to ``max_items`` entries by index.

    ``entries`` must be ordered: the ``pinned`` entries first (they are chosen
    in their order and count toward the caps without being refused by them),
    then the rest best score first. Only the best ``pool_size`` of the rest are
    considered at a time; the pool grows while the edition is short. Entries
    are read by index only, so ``entries`` may build them on demand.
    """
    outcome = Outcome(caps=caps)
    per_source: dict[str, int] = {}
    per_topic: dict[str | None, int] = {}

    def count(entry: Entry) -> None:
        per_source[entry.source] = per_source.get(entry.source, 0) + 1
        per_topic[entry.topic] = per_topic.get(entry.topic, 0) + 1

    for index in range(pinned):
        outcome.chosen.append(index)
        outcome.mmr[index] = 1.0
        count(entries[index])
    total = len(entries)
    best = entries[pinned].score if pinned < total else 0.0
    scale = best if best > 0 else 1.0
    # Each pool entry's highest similarity to what is chosen, kept up to date.
    nearest: dict[int, float] = {}
    considered = pinned
    pool: list[int] = []

    def grow() -> bool:
        nonlocal considered
        if considered >= total:
            return False
        added = range(considered, min(considered + pool_size, total))
        considered = added.stop
        for index in added:
            nearest[index] = max((similarity(c, index) for c in outcome.chosen), default=0.0)
        pool.extend(added)
        return True

    while len(outcome.chosen) < max_items and (pool or grow()):
        values = {
            i: mmr_lambda * entries[i].score / scale - (1 - mmr_lambda) * nearest[i] for i in pool
        }
        # Highest MMR; ties to the better score, then the earlier entry.
        pick = max(pool, key=lambda i: (values[i], entries[i].score, -i))
        pool.remove(pick)
        entry = entries[pick]
        if not entry.exempt:
            if caps.max_per_source is not None and per_source.get(entry.source, 0) >= (
                caps.max_per_source
            ):
                outcome.capped[pick] = "source"
                continue
            if (
                caps.max_per_topic is not None
                and entry.topic is not None
                and per_topic.get(entry.topic, 0) >= caps.max_per_topic
            ):
                outcome.capped[pick] = "topic"
                continue
        outcome.chosen.append(pick)
        outcome.mmr[pick] = values[pick]
        count(entry)
        for other in pool:
            value = similarity(other, pick)
            if value > nearest[other]:
                nearest[other] = value
    # Every uncapped candidate is taken and the edition is still short: the caps
    # together (a source and a topic cap on the same items) cost items that
    # nothing else can replace. Take the set-aside ones back, best first.
    if len(outcome.chosen) < max_items and outcome.capped:
        for index in sorted(outcome.capped):
            if len(outcome.chosen) >= max_items:
                break
            outcome.over_cap[index] = outcome.capped.pop(index)
            outcome.chosen.append(index)
            outcome.mmr[index] = 0.0
    return outcome


@dataclass(frozen=True)
class Section(Generic[T]):
    key: str
    items: tuple[T, ...]


def sections(
    chosen: Sequence[T],
    *,
    topic_of: Callable[[T], str],
    top_stories: int,
    section_order: Sequence[str],
) -> list[Section[T]]:
    """The email's sections: the top stories, then topics in the configured order.

    Topics not in ``section_order`` follow in order of their best item, and
    "other" (items without topics) comes last. Items keep their chosen order.
    """
    result: list[Section[T]] = []
    if top_stories > 0 and chosen:
        result.append(Section(TOP_SECTION, tuple(chosen[:top_stories])))
    grouped: dict[str, list[T]] = {}
    for item in chosen[top_stories:] if top_stories > 0 else chosen:
        grouped.setdefault(topic_of(item), []).append(item)
    ordered = [topic for topic in section_order if topic in grouped]
    ordered += [t for t in grouped if t not in section_order and t != OTHER_SECTION]
    if OTHER_SECTION in grouped and OTHER_SECTION not in ordered:
        ordered.append(OTHER_SECTION)
    result.extend(Section(topic, tuple(grouped[topic])) for topic in ordered)
    return result
