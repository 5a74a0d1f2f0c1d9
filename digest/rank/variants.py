"""Personalization: subscribers' preference sets to a bounded number of email variants.

Each distinct preference set (topics chosen, sources muted) would be its own
variant, rendered once. To bound rendering, :func:`build_variants` keeps the
"everything" variant plus the ``max_variants - 1`` most common sets, and merges
each rarer set into the nearest kept one:

1. prefer variants that mute at least the sources the subscriber muted, so a
   merge never brings back a muted source when it can be avoided;
2. then the smallest distance: Jaccard distance of the topic sets (no topics =
   all topics known to the plan) plus half the Jaccard distance of the muted sets;
3. then the variant with more subscribers; then its key.

Where no kept variant honours the mutes, the plan records them under
``unhonoured_mutes`` so the operator can raise ``max_variants``.
Deterministic: the same multiset of preferences gives the same plan.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from digest.rank.edition import EditionSelection, select_variant
from digest.rank.model import PreferenceSet

DEFAULT_KEY = "all"
EVERYTHING = PreferenceSet()


@dataclass(frozen=True)
class Variant:
    key: str
    preference: PreferenceSet
    # Subscribers getting it, their own set or merged into it.
    subscribers: int
    # The rarer sets merged into this variant.
    merged: tuple[PreferenceSet, ...] = ()


@dataclass(frozen=True)
class VariantPlan:
    variants: tuple[Variant, ...]
    assignment: Mapping[PreferenceSet, str]
    unhonoured_mutes: Mapping[PreferenceSet, frozenset[str]]

    def key_for(self, preference: PreferenceSet) -> str:
        """The variant for a preference set; sets unknown to the plan get "everything"."""
        return self.assignment.get(preference, DEFAULT_KEY)

    def variant(self, key: str) -> Variant:
        for variant in self.variants:
            if variant.key == key:
                return variant
        raise KeyError(key)


def variant_key(preference: PreferenceSet) -> str:
    """A short stable key (fits EditionVariant.key): "all" or "v-" + 10 hex digits."""
    if preference == EVERYTHING:
        return DEFAULT_KEY
    digest = hashlib.sha1(preference.describe().encode(), usedforsecurity=False).hexdigest()
    return "v-" + digest[:10]


def _jaccard_distance(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return 1.0 - len(a & b) / len(union) if union else 0.0


def distance(a: PreferenceSet, b: PreferenceSet, universe: frozenset[str]) -> float:
    topics_a = a.topics or universe
    topics_b = b.topics or universe
    return _jaccard_distance(topics_a, topics_b) + 0.5 * _jaccard_distance(
        a.muted_sources, b.muted_sources
    )


def nearest(
    preference: PreferenceSet,
    kept: Iterable[PreferenceSet],
    counts: Mapping[PreferenceSet, int],
    universe: frozenset[str],
) -> PreferenceSet:
    """The kept set a rarer one is merged into (rules 1-3 of the module docstring).

    Also used when sending, for subscribers whose set was not seen at planning
    time (they changed it since): ``counts`` are then the stored variant sizes.
    """
    return min(
        kept,
        key=lambda v: (
            not v.muted_sources >= preference.muted_sources,
            distance(preference, v, universe),
            -counts.get(v, 0),
            variant_key(v),
        ),
    )


def build_variants(
    preferences: Iterable[PreferenceSet] | Mapping[PreferenceSet, int],
    *,
    max_variants: int,
    topics: Iterable[str] = (),
) -> VariantPlan:
    """Plan at most ``max_variants`` variants for subscribers' preference sets.

    ``preferences`` holds one set per subscriber, or the number of subscribers
    per set; ``topics`` is the newsletter's
    topic list (what "no topics chosen" means), else the topics named in the sets.
    """
    if max_variants < 1:
        raise ValueError("max_variants must be at least 1")
    counts = Counter(preferences)
    universe = frozenset(topics) | frozenset(t for p in counts for t in p.topics)
    ranked = sorted(counts, key=lambda p: (-counts[p], p.describe()))
    kept = [EVERYTHING, *[p for p in ranked if p != EVERYTHING][: max_variants - 1]]
    kept_set = set(kept)
    merged: dict[PreferenceSet, list[PreferenceSet]] = {p: [] for p in kept}
    assignment: dict[PreferenceSet, str] = {p: variant_key(p) for p in kept}
    unhonoured: dict[PreferenceSet, frozenset[str]] = {}
    for preference in ranked:
        if preference in kept_set:
            continue
        target = nearest(preference, kept, counts, universe)
        merged[target].append(preference)
        assignment[preference] = variant_key(target)
        missing = preference.muted_sources - target.muted_sources
        if missing:
            unhonoured[preference] = missing
    variants = tuple(
        Variant(
            key=variant_key(p),
            preference=p,
            subscribers=counts.get(p, 0) + sum(counts[m] for m in merged[p]),
            merged=tuple(merged[p]),
        )
        for p in kept
    )
    return VariantPlan(variants, assignment, unhonoured)


def select_variants(selection: EditionSelection, plan: VariantPlan) -> dict[str, EditionSelection]:
    """Each planned variant's selection, by key, from one clustering of the edition."""
    return {
        variant.key: selection
        if variant.preference == EVERYTHING and selection.preference in (None, EVERYTHING)
        else select_variant(selection, variant.preference)
        for variant in plan.variants
    }
