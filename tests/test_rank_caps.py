"""Caps keep variety but never shorten the edition while eligible candidates remain.

The shapes come from real publishers' days: one site's own feed (the seed's
case: "the best of the last day" from one source), a mix of feeds that carry no
categories at all, one prolific source beside a few small ones.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from digest.rank import Candidate, RankingConfig, ReasonKind, explanation_dict, select_edition
from digest.rank.diversity import Caps, Entry, fit_caps

NOW = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
DEFAULT = RankingConfig()  # max_items 12, max_per_source 3, max_per_topic 4, no own sources

_SYLLABLES = ("ka", "lo", "mi", "ren", "su", "ta", "vel", "dor", "ni", "pra", "zu", "bek")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(3))


def make(
    count: int,
    source: str,
    *,
    start_id: int = 1,
    topics: tuple[str, ...] = (),
    seed: int = 0,
    spacing: timedelta = timedelta(minutes=20),
) -> list[Candidate]:
    """``count`` unrelated articles (no two tell one story) from one source."""
    rng = random.Random(f"{source}-{seed}")
    items = []
    for n in range(count):
        words = [_word(rng) for _ in range(40)]
        items.append(
            Candidate(
                id=start_id + n,
                url=f"https://{source.lower().replace(' ', '-')}.example/{start_id + n}",
                title=" ".join(words[:8]).capitalize(),
                published_at=NOW - spacing * (n + 1),
                source=source,
                topics=topics,
                text=" ".join(words[8:]),
                language="de",
            )
        )
    return items


def per_source(selection: object) -> Counter[str]:
    return Counter(item.candidate.source for item in selection.items)  # type: ignore[attr-defined]


def test_one_source_fills_the_edition() -> None:
    selection = select_edition(make(40, "Tagesblatt"), now=NOW, config=DEFAULT)
    assert len(selection.items) == DEFAULT.max_items
    assert any("max_per_source raised from 3 to 12" in note for note in selection.notes)
    over = [item for item in selection.items if item.note]
    assert len(over) == DEFAULT.max_items - 3
    assert "over max_per_source 3 (Tagesblatt)" in over[0].note  # type: ignore[operator]
    data = explanation_dict(selection)
    assert any("raised from 3 to 12" in note for note in data["notes"])
    assert sum(1 for row in data["rows"] if row["note"]) == DEFAULT.max_items - 3


def test_untagged_sources_fill_the_edition_and_share_it() -> None:
    # Two real-world shapes: a broadcaster's RSS (40 items) and a tech site's Atom
    # (150 items), neither with a single category.
    candidates = make(40, "Rundfunk") + make(
        150, "Technikseite", start_id=1000, spacing=timedelta(minutes=5)
    )
    selection = select_edition(candidates, now=NOW, config=DEFAULT)
    assert len(selection.items) == 12
    counts = per_source(selection)
    assert counts == {"Rundfunk": 6, "Technikseite": 6}
    # Items without a topic are not one topic "other" capped at max_per_topic.
    assert all(item.candidate.topics == () for item in selection.items)
    assert not any(e.reason.kind == ReasonKind.TOPIC_CAP for e in selection.excluded)
    capped = [e for e in selection.excluded if e.reason.kind == ReasonKind.SOURCE_CAP]
    assert capped and "max_per_source 3, raised to 6 for this edition" in capped[0].reason.detail


def test_a_prolific_source_does_not_fill_a_mixed_edition() -> None:
    candidates = make(60, "Vielschreiber", spacing=timedelta(minutes=5))
    for n, name in enumerate(("Anzeiger", "Kurier", "Bote", "Rundschau")):
        candidates += make(3, name, start_id=100 + 10 * n, seed=n, spacing=timedelta(hours=2))
    selection = select_edition(candidates, now=NOW, config=DEFAULT)
    counts = per_source(selection)
    assert len(selection.items) == 12
    # Four small sources bring 12 between them: the cap holds at 3 for everyone.
    assert counts["Vielschreiber"] == 3
    assert not selection.cap_notes


def test_a_topic_cap_relaxes_only_as_far_as_needed() -> None:
    candidates = make(20, "A", topics=("KI",)) + make(20, "B", start_id=100, topics=("KI",))
    candidates += make(20, "C", start_id=200, topics=("KI",))
    candidates += make(2, "D", start_id=300, topics=("Chips",))
    candidates += make(2, "E", start_id=400)
    selection = select_edition(candidates, now=NOW, config=DEFAULT)
    assert len(selection.items) == 12
    topics = Counter(i.candidate.topics[0] if i.candidate.topics else None for i in selection.items)
    assert topics == {"KI": 8, "Chips": 2, None: 2}
    assert any("max_per_topic raised from 4 to 8" in note for note in selection.notes)
    assert max(per_source(selection).values()) <= 3


def test_caps_together_never_leave_the_edition_short() -> None:
    # Each cap alone can be met (sources 4+4+4, topics KI 4 + 10 untagged), but
    # together they admit only 8: KI from A and B shares one topic cap of 4, C
    # stops at its source cap of 4. The set-aside items come back, noted as such.
    candidates = make(10, "A", topics=("KI",), spacing=timedelta(minutes=3))
    candidates += make(10, "B", start_id=100, topics=("KI",), spacing=timedelta(minutes=4))
    candidates += make(10, "C", start_id=200)
    config = replace(DEFAULT, max_per_source=4, max_per_topic=4)
    selection = select_edition(candidates, now=NOW, config=config)
    assert len(selection.items) == 12
    assert any("taken over the caps" in note for note in selection.notes)
    assert sum(1 for item in selection.items if item.note) == 4


def test_too_few_candidates_are_all_taken() -> None:
    selection = select_edition(make(5, "A") + make(2, "B", start_id=50), now=NOW, config=DEFAULT)
    assert len(selection.items) == 7


def test_fit_caps_is_the_smallest_cap_that_fills() -> None:
    def entries(*counts: int, free: int = 0) -> list[Entry]:
        result = [Entry(1.0, f"s{n}", None) for n, c in enumerate(counts) for _ in range(c)]
        return result + [Entry(1.0, "own", None, exempt=True)] * free

    caps = Caps(3, 4)
    assert fit_caps(entries(40), max_items=12, caps=caps).max_per_source == 12
    assert fit_caps(entries(150, 40), max_items=12, caps=caps).max_per_source == 6
    assert fit_caps(entries(150, 40, 1), max_items=12, caps=caps).max_per_source == 6
    assert fit_caps(entries(150, 2, 2, 2), max_items=12, caps=caps).max_per_source == 6
    assert fit_caps(entries(9, 9, 9, 9), max_items=12, caps=caps).max_per_source == 3
    assert fit_caps(entries(20, free=10), max_items=12, caps=caps).max_per_source == 3
    # Fewer candidates than places: the cap that admits them all, never a lower one.
    assert fit_caps(entries(5, 2), max_items=12, caps=caps).max_per_source == 5
    assert fit_caps(entries(2, 2), max_items=12, caps=caps).max_per_source == 3
    assert fit_caps(entries(5), max_items=12, caps=Caps(None, None)) == Caps(None, None)
    # A single source of 100,000 items is found by bisection, not by counting up.
    assert fit_caps(entries(100_000), max_items=12, caps=caps).max_per_source == 12
