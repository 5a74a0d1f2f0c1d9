"""Ranking: which of the window's articles make the edition, in which order, and why.

The entry point is :func:`select_edition` (candidates, ``now``, a
:class:`RankingConfig`, the :class:`History` of earlier editions and the
editor's :class:`EditorActions`) returning an :class:`EditionSelection`: items
grouped into sections, every other candidate with its reason, the stories
(clusters) and a thin-day verdict. :func:`explain` turns it into rows.
Personalized variants: :func:`build_variants` then :func:`select_variants`.

Modules, in pipeline order: ``text`` (features), ``minhash`` (LSH), ``cluster``
(stories), ``signals`` (scores), ``exclude`` (advert and paywall titles),
``stories`` (history, exclusions and drops), ``diversity`` (MMR, caps, sections),
``edition`` (orchestration), ``explain``, ``variants``.
``scoring`` keeps the original simple API (``rank``/``select``).
"""

from digest.rank.cluster import Clustering, Document, Link, find_stories
from digest.rank.diversity import Section
from digest.rank.edition import (
    Chosen,
    EditionSelection,
    Excluded,
    ThinDay,
    choose,
    select_edition,
    select_variant,
)
from digest.rank.explain import ExplanationRow, explain, explanation_dict, format_explanation
from digest.rank.model import (
    ClusterParams,
    EditorActions,
    History,
    PreferenceSet,
    RankingConfig,
    Reason,
    ReasonKind,
    SentItem,
)
from digest.rank.scoring import Candidate, Ranked, RankingParams, rank, recency, select
from digest.rank.stories import Scored, Story, StoryPool, prepare
from digest.rank.variants import Variant, VariantPlan, build_variants, select_variants

__all__ = [
    "Candidate",
    "Chosen",
    "ClusterParams",
    "Clustering",
    "Document",
    "EditionSelection",
    "EditorActions",
    "Excluded",
    "ExplanationRow",
    "History",
    "Link",
    "PreferenceSet",
    "Ranked",
    "RankingConfig",
    "RankingParams",
    "Reason",
    "ReasonKind",
    "Scored",
    "Section",
    "SentItem",
    "Story",
    "StoryPool",
    "ThinDay",
    "Variant",
    "VariantPlan",
    "build_variants",
    "choose",
    "explain",
    "explanation_dict",
    "find_stories",
    "format_explanation",
    "prepare",
    "rank",
    "recency",
    "select",
    "select_edition",
    "select_variant",
    "select_variants",
]
