"""Personalized variants: bounded plans, nearest merges, one selection per variant."""

from __future__ import annotations

import random

import pytest

from digest.rank import (
    PreferenceSet,
    RankingConfig,
    ReasonKind,
    build_variants,
    select_edition,
    select_variant,
    select_variants,
)
from tests.rank_support import REFERENCE, candidates

CONFIG = RankingConfig(own_sources=frozenset({"Techblick"}))
TOPICS = ("KI", "Robotik", "Chips", "Politik", "Forschung", "Start-ups", "Sicherheit", "Mobilität")


def pref(*topics: str, muted: tuple[str, ...] = ()) -> PreferenceSet:
    return PreferenceSet(frozenset(topics), frozenset(muted))


def subscribers() -> list[PreferenceSet]:
    return (
        [pref()] * 50
        + [pref("KI")] * 20
        + [pref("Chips", "Sicherheit")] * 10
        + [pref("KI", "Forschung")] * 2
        + [pref("Chips"), pref("Robotik", "Mobilität")]
        + [pref(muted=("Byteline",))] * 3
    )


def test_plans_at_most_max_variants_and_merges_the_rare_sets() -> None:
    plan = build_variants(subscribers(), max_variants=4, topics=TOPICS)
    assert len(plan.variants) == 4
    assert plan.variants[0].key == "all"
    kept = {v.preference for v in plan.variants}
    assert kept == {pref(), pref("KI"), pref("Chips", "Sicherheit"), pref(muted=("Byteline",))}
    # Nearest by topics: KI+Forschung joins KI, Chips joins Chips+Sicherheit.
    assert plan.key_for(pref("KI", "Forschung")) == plan.key_for(pref("KI"))
    assert plan.key_for(pref("Chips")) == plan.key_for(pref("Chips", "Sicherheit"))
    assert sum(v.subscribers for v in plan.variants) == len(subscribers())
    assert plan.key_for(pref("Unknown")) == "all"


def test_a_merge_keeps_muted_sources_muted_when_it_can() -> None:
    people = [pref()] * 5 + [pref(muted=("Byteline",))] * 4 + [pref("KI", muted=("Byteline",))]
    plan = build_variants(people, max_variants=2)
    assert plan.key_for(pref("KI", muted=("Byteline",))) == plan.key_for(pref(muted=("Byteline",)))
    assert plan.unhonoured_mutes == {}
    tight = build_variants(people, max_variants=1)
    assert tight.unhonoured_mutes[pref(muted=("Byteline",))] == frozenset({"Byteline"})


def test_the_plan_does_not_depend_on_subscriber_order() -> None:
    people = subscribers()
    expected = build_variants(people, max_variants=3, topics=TOPICS)
    random.Random(1).shuffle(people)
    assert build_variants(people, max_variants=3, topics=TOPICS) == expected
    with pytest.raises(ValueError):
        build_variants(people, max_variants=0)


def test_a_variant_filters_topics_and_replaces_muted_sources() -> None:
    edition = select_edition(candidates(), now=REFERENCE, config=CONFIG)
    chips = select_variant(edition, pref("Chips"))
    assert chips.items and all("Chips" in i.candidate.topics for i in chips.items)
    assert ReasonKind.OTHER_TOPICS in {e.reason.kind for e in chips.excluded}
    # Mute the own site: its stories are represented by another source instead.
    quiet = select_variant(edition, pref(muted=("Techblick",)))
    assert all(i.candidate.source != "Techblick" for i in quiet.items)
    represented = {i.story_id for i in quiet.items}
    assert 101 in represented
    for item in quiet.items:
        assert all(c.source != "Techblick" for c in item.also_reported_by)
    # The pool is shared: no clustering again.
    assert quiet.pool is edition.pool


def test_select_variants_renders_each_planned_variant_once() -> None:
    edition = select_edition(candidates(), now=REFERENCE, config=CONFIG)
    plan = build_variants(subscribers(), max_variants=3, topics=TOPICS)
    selections = select_variants(edition, plan)
    assert set(selections) == {v.key for v in plan.variants}
    assert selections["all"] is edition
