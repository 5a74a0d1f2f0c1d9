"""The ranking's inputs besides the candidates: settings, history, editor actions, reasons.

Every field of :class:`RankingConfig` has a default and a comment saying what
it does; ``digest.config`` mirrors the ones an operator should set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from digest.rank.scoring import RankingParams


@dataclass(frozen=True)
class ClusterParams:
    """Story clustering: LSH to find candidate pairs, then a verification rule."""

    # MinHash permutations per index, and how they are cut into bands of rows.
    # 16 bands of 2 rows: two sketches whose Jaccard similarity is 0.3 collide
    # in some band with probability 1 - (1 - 0.3**2)**16 = 0.78, at 0.5 with 0.99.
    num_perm: int = 32
    bands: int = 16
    rows: int = 2
    # The sketch is a document's rarest shared features: at most this many,
    # among features found in at least two and at most max_df documents
    # (features of one document can't collide; one in more documents than a
    # story has reports says little about which story it is).
    sketch_size: int = 12
    max_df: int = 50
    # Of the num_perm signature values, at least this many must agree for a
    # colliding pair to be verified: an estimated sketch Jaccard of 8/32 = 0.25.
    # Chance collisions agree in 2-4 places, reports of one story in most; on
    # real feeds (news snapshots of 2021 and 2023) 10 lost reports of one story
    # whose sketches share 5 of 12 features.
    min_agreement: int = 8
    # Buckets larger than this are linked as a chain, not all pairs (see minhash).
    max_bucket: int = 40
    seed: int = 1
    # Two articles further apart than this are never one story.
    max_gap: timedelta = timedelta(hours=48)
    # Verification. Same language: IDF-weighted cosine of all stems at least
    # `same_language_cosine`, or entity overlap at least `entity_overlap` with at
    # least `min_shared_entities` shared entities and cosine `min_cosine`.
    same_language_cosine: float = 0.3
    entity_overlap: float = 0.45
    min_shared_entities: int = 3
    min_cosine: float = 0.12
    # Different (or unknown) languages: only the entity evidence counts.
    cross_language_overlap: float = 0.4
    cross_language_min_shared: int = 4
    # Figures as evidence (see cluster._same_story). A pair that shares no
    # distinctive figure (not a year, not a small count up to 10) must share
    # this many entities more than the thresholds above ask...
    no_figure_extra_shared: int = 1
    # ...and when both texts give distinctive figures and none of them agree
    # ("800 jobs, €1.2bn" against "a loss of €38m"), names alone never link
    # them: the same company, city or chief executive in another story. Only
    # the same-language text similarity can.
    figures_must_agree: bool = True
    # One source's own template: a word found in at least `template_share` of
    # one source's documents, and in three at least (with `template_min_docs`
    # of them in the batch), is that site's phrasing ("teilte ... mit", a byline, a sign-off),
    # not a story's, and is ignored in that source's documents.
    template_share: float = 0.3
    template_min_docs: int = 5
    # Two articles of one source that share no distinctive figure are one story
    # only when their texts are this similar: a site's items share its city and
    # its beat anyway; its update of a story repeats most words or the figures.
    same_source_cosine: float = 0.5
    # Characters of a candidate's text used for clustering (title + lead is
    # where the story is; the rest only costs time).
    text_chars: int = 500


@dataclass(frozen=True)
class RankingConfig:
    """Everything the ranking can be told. Defaults suit a daily 12-item edition."""

    max_items: int = 12
    # Age at which the recency signal has halved.
    half_life: timedelta = timedelta(hours=8)
    # Score added per point of editorial priority.
    priority_weight: float = 0.25
    # Multiplier per source name; others get default_source_weight.
    source_weights: Mapping[str, float] = field(default_factory=dict)
    default_source_weight: float = 1.0
    # Multiplier per topic; an article takes the highest of its topics' weights
    # (topics without a weight count 1.0).
    topic_weights: Mapping[str, float] = field(default_factory=dict)
    # Score added for popularity: log1p(views + click_weight * clicks) / log1p(popularity_scale),
    # capped at 1, times this weight.
    popularity_weight: float = 0.2
    popularity_scale: float = 10_000.0
    click_weight: float = 10.0
    # Score added per doubling of the number of sources reporting the story.
    coverage_weight: float = 0.15
    # Articles and stories sent in this many most recent editions are not repeated...
    novelty_editions: int = 7
    # ...unless the article changed since (its content hash differs); then its
    # score is multiplied by this.
    updated_factor: float = 0.8
    # Maximal marginal relevance: 1.0 ranks by score alone, lower values trade
    # score for variety (similarity of topics and entities to items already chosen).
    mmr_lambda: float = 0.7
    # Representatives considered by MMR: the best this many, grown while caps
    # leave the edition short.
    mmr_pool: int = 200
    # At most this many items per source (own sources exempt unless cap_own_sources)
    # and per primary topic; None: no cap.
    max_per_source: int | None = 3
    max_per_topic: int | None = 4
    cap_own_sources: bool = False
    # Items scoring below min_score don't go out; with fewer than min_items above
    # it the edition is skipped or shortened (thin_day); none at all: skipped.
    min_score: float = 0.05
    min_items: int = 3
    thin_day: Literal["skip", "shorten"] = "shorten"
    # Section order by topic (first topic of an item found here names its section;
    # others go to "other", last). The first top_stories items head the email.
    section_order: tuple[str, ...] = ()
    top_stories: int = 3
    # The publisher's own sources: preferred as a story's representative.
    own_sources: frozenset[str] = frozenset()
    prefer_own_site: bool = True
    # Title prefixes of adverts and paywalled teasers ("Anzeige:", "+ |"): such items
    # are left out unless pinned (see digest.rank.exclude). digest.config sets the
    # de/en list; empty here, so the library leaves every title alone by default.
    exclude_titles: tuple[str, ...] = ()
    cluster: ClusterParams = field(default_factory=ClusterParams)

    @classmethod
    def from_params(cls, params: RankingParams, **overrides: object) -> RankingConfig:
        """The config equivalent to the old :class:`RankingParams`, plus overrides."""
        base = cls(
            max_items=params.max_items,
            half_life=params.half_life,
            priority_weight=params.priority_weight,
            source_weights=dict(params.source_weights),
            default_source_weight=params.default_source_weight,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SentItem:
    """An article that went out in an earlier edition.

    ``title`` and ``text`` let a re-report of the same story by another source
    be recognized as already sent (it joins the story clustering); with both
    empty only the same article (id or URL) counts.
    """

    edition_date: date
    article_id: int | None
    url: str
    content_hash: str = ""
    title: str = ""
    text: str = ""
    language: str | None = None


@dataclass(frozen=True)
class History:
    """What earlier editions sent; the ranking keeps the ``novelty_editions`` latest dates."""

    sent: tuple[SentItem, ...] = ()


@dataclass(frozen=True)
class EditorActions:
    """An editor's decisions for one edition, by article id.

    A pin puts the article's story in, ahead of everything, whatever its score,
    caps or history (the pinned article represents its story). A boost multiplies
    the score. A drop removes the article's whole story, so that another
    source's copy does not take its place.
    """

    pins: frozenset[int] = frozenset()
    boosts: Mapping[int, float] = field(default_factory=dict)
    drops: frozenset[int] = frozenset()


@dataclass(frozen=True, order=True)
class PreferenceSet:
    """A subscriber's choices: topics (empty: all) and sources they muted."""

    topics: frozenset[str] = frozenset()
    muted_sources: frozenset[str] = frozenset()

    def describe(self) -> str:
        topics = "+".join(sorted(self.topics)) or "all"
        muted = "+".join(sorted(self.muted_sources))
        return f"topics={topics}" + (f";muted={muted}" if muted else "")


class ReasonKind(StrEnum):
    """Why a candidate is not in the edition (or not in a variant)."""

    DUPLICATE = "duplicate"
    BELOW_THRESHOLD = "below_threshold"
    SOURCE_CAP = "source_cap"
    TOPIC_CAP = "topic_cap"
    ALREADY_SENT = "already_sent"
    STORY_SENT = "story_sent"
    DROPPED = "dropped"
    OUTRANKED = "outranked"
    THIN_DAY = "thin_day"
    MUTED_SOURCE = "muted_source"
    OTHER_TOPICS = "other_topics"
    EXCLUDED_TITLE = "excluded_title"


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    # One sentence for people, in English.
    detail: str
    # The article this one duplicates, or that was sent before / was dropped.
    related_article_id: int | None = None
    # For sent articles and stories: the edition date.
    date: date | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": str(self.kind),
            "detail": self.detail,
            "related_article_id": self.related_article_id,
            "date": self.date.isoformat() if self.date else None,
        }
