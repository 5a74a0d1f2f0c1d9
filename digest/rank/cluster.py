"""Story clustering: which articles report the same story, across sources and languages.

1. Features (``text``): stems of every word of the first ``text_chars``
   characters, and the entity subset (names, acronyms, figures) that survives
   translation.
2. Weights: IDF over the batch, so "KI", "Euro" or "Unternehmen" count little
   and "Veltrion" or "#2.3" a lot.
3. Candidate pairs (``minhash``): two LSH indexes, one over each document's
   *sketch* of rarest shared entities (in a mixed-language batch: entities
   found in both languages), one over its rarest shared stems (see
   ``ClusterParams.sketch_size``). Only documents sharing a band key, with
   signatures agreeing in ``min_agreement`` places, are compared: no all-pairs
   step.
4. Verification of each candidate pair: published within ``max_gap``, and
   - same language: IDF-weighted cosine of the stems, or strong entity overlap
     (share of the smaller document's entity weight found in the other) with
     enough shared entities and some textual overlap;
   - different languages: entity overlap alone, with more shared entities;
   - either way, one shared entity more when no distinctive figure (not a
     year, not a count up to 10) is shared, and no entity link at all when
     both texts give distinctive figures and none agree: that is the same
     company, city or chief executive in another story.
5. Union-find over the verified pairs: a story is a connected component
   (single link: a chain of verified reports is one story).

Single link makes one guard essential: real feeds write every item in the same
site phrasing (a closing byline, "teilte ... mit", a sign-off), and a chain of
items linked by that phrasing would swallow a whole feed into one "story". So
a word found in a large share of one source's documents is taken for that
source's template and ignored in them (``template_share``), and two documents
of the same source that share no distinctive figure need a high text
similarity (``same_source_cosine``): a site's items share its city and its beat
anyway, and its update of a story repeats most of the words or the figures.

"Where the text allows telling" means in practice: a translation, or a report in
the other language that repeats several of the same names and figures (company,
people, places, amounts, CVE numbers), is recognized: at least
``cross_language_min_shared`` (4) shared entities carrying
``cross_language_overlap`` (40 %) of the smaller report's entity weight. A
foreign report that paraphrases without the specifics ("a Munich start-up" for
"Lumara Systems", "the German government" for "Bundesregierung") is not, nor
are stories whose only shared names are very common ones, nor texts in scripts
that fold to nothing in ASCII. Figures meet in any form ("zwei Millionen",
"2 Mio.", "$2m"), names through inflection ("Pariser"/"Paris"); names that
change in translation only through the small tables in ``lexicon``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from digest.rank.minhash import (
    I64,
    U64,
    band_keys,
    candidate_pairs,
    distinct,
    signatures,
    unique_pairs,
)
from digest.rank.model import ClusterParams
from digest.rank.text import BatchFeatures, FeatureExtractor, distinctive_figure


@dataclass(frozen=True)
class Document:
    """What clustering reads of an article (or of a previously sent item)."""

    text: str
    language: str | None
    published_at: datetime
    # The source's name; None for an unknown source (never "the same" as another).
    source: str | None = None


@dataclass(frozen=True)
class Link:
    """Why two documents were judged the same story."""

    cosine: float
    overlap: float
    shared: int
    cross_language: bool
    # Shared distinctive figures (see text.distinctive_figure), part of `shared`.
    figures: int = 0

    def describe(self) -> str:
        kind = "cross-language, " if self.cross_language else ""
        return (
            f"{kind}text similarity {self.cosine:.2f}, "
            f"{self.shared} shared names/figures (overlap {self.overlap:.2f}"
            f"{f', {self.figures} figures' if self.figures else ''})"
        )


@dataclass(frozen=True)
class Clustering:
    """The outcome for a batch of documents, by index into the input sequence."""

    # labels[i]: the smallest index of document i's story (its cluster id).
    labels: list[int]
    # Verified links (i < j) that joined stories, with their evidence.
    links: dict[tuple[int, int], Link]
    features: BatchFeatures
    # IDF per feature id of the batch (see FeatureExtractor).
    idf: list[float]
    # How many pairs LSH proposed (the work done instead of all pairs).
    candidate_pairs: int

    def members(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = {}
        for index, label in enumerate(self.labels):
            groups.setdefault(label, []).append(index)
        return groups


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root, so labels are input-order free
            # once the caller has sorted its documents.
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def _sketch_signatures(
    flat: I64,
    owners: I64,
    n_docs: int,
    df: I64,
    hashes: U64,
    params: ClusterParams,
    seed: int,
) -> U64:
    """MinHash signatures of each document's sketch: its rarest features shared with others."""
    max_df = params.max_df
    feature_df = df[flat]
    keep = (feature_df >= 2) & (feature_df <= max_df)
    flat, owners, feature_df = flat[keep], owners[keep], feature_df[keep]
    feature_hash = hashes[flat]
    # Per document, rarest first; the hash breaks ties the same way in any batch.
    order = np.lexsort((feature_hash, feature_df, owners))
    flat, owners, feature_hash = flat[order], owners[order], feature_hash[order]
    if owners.size:
        boundary = np.flatnonzero(owners[1:] != owners[:-1]) + 1
        starts = np.concatenate(([0], boundary))
        group_start = np.repeat(starts, np.diff(np.concatenate((starts, [owners.size]))))
        rank = np.arange(owners.size) - group_start
        top = rank < params.sketch_size
        owners, feature_hash = owners[top], feature_hash[top]
    return signatures(feature_hash, owners, n_docs, num_perm=params.num_perm, seed=seed)


def _cross_language_entities(
    flat: I64, owners: I64, documents: Sequence[Document], vocabulary: int
) -> tuple[I64, I64]:
    """The entity occurrences worth sketching when the batch mixes languages.

    A German text capitalizes every noun, so its rarest "entities" are mostly
    common nouns shared with another German text, and they crowd the names and
    figures out of its sketch. When the batch has several languages, keep the
    entities that occur in at least two of them: names, numbers, products.
    The word index still covers same-language pairs.
    """
    codes: dict[str, int] = {}
    language = np.fromiter(
        (codes.setdefault(_language_key(doc.language), len(codes)) for doc in documents),
        dtype=np.int64,
        count=len(documents),
    )
    if len(codes) < 2 or flat.size == 0:
        return flat, owners
    pairs = distinct(flat * len(codes) + language[owners])
    languages_per_feature = np.bincount(pairs // len(codes), minlength=vocabulary)
    keep = languages_per_feature[flat] >= 2
    return flat[keep], owners[keep]


def find_stories(documents: Sequence[Document], params: ClusterParams) -> Clustering:
    """Group ``documents`` into stories. Deterministic for a given input order."""
    extractor = FeatureExtractor()
    features = extractor.batch([doc.text[: params.text_chars] for doc in documents])
    n_docs = len(documents)
    vocabulary = len(extractor.vocabulary)
    sources = _source_codes(documents)
    features = _without_templates(features, sources, n_docs, vocabulary, params)
    words_flat, words_owner = features.ids, features.owners
    df = np.bincount(words_flat, minlength=vocabulary).astype(np.int64)
    idf_array = np.log((n_docs + 1) / (df + 1)) + 1.0
    hashes = np.array(extractor.hashes, dtype=np.uint64)

    pair_chunks = []
    if n_docs > 1:
        is_entity = features.entity[words_flat]
        ent_flat, ent_owner = words_flat[is_entity], words_owner[is_entity]
        cross_flat, cross_owner = _cross_language_entities(
            ent_flat, ent_owner, documents, vocabulary
        )
        for flat, owner, seed in (
            (cross_flat, cross_owner, params.seed),
            (words_flat, words_owner, params.seed + 1),
        ):
            sigs = _sketch_signatures(flat, owner, n_docs, df, hashes, params, seed)
            keys = band_keys(sigs, bands=params.bands, rows=params.rows)
            found = candidate_pairs(keys, max_bucket=params.max_bucket)
            # One band of two rows can collide by chance; a pair whose signatures
            # agree in fewer than `min_agreement` places is not worth verifying.
            agreement = (sigs[found[:, 0]] == sigs[found[:, 1]]).sum(axis=1)
            pair_chunks.append(found[agreement >= params.min_agreement])
    pairs: npt.NDArray[np.int64] = (
        unique_pairs(np.concatenate(pair_chunks), n_docs)
        if pair_chunks
        else np.zeros((0, 2), dtype=np.int64)
    )
    candidates = int(pairs.shape[0])

    idf = idf_array.tolist()
    norms = np.sqrt(
        np.bincount(words_owner, weights=idf_array[words_flat] ** 2, minlength=n_docs)
    ).tolist()
    is_entity = features.entity[words_flat]
    entity_weight = np.bincount(
        words_owner[is_entity], weights=idf_array[words_flat[is_entity]], minlength=n_docs
    ).tolist()
    # Pairs published too far apart are dropped before any set is built.
    stamps = np.array([doc.published_at.timestamp() for doc in documents], dtype=np.float64)
    close = np.abs(stamps[pairs[:, 0]] - stamps[pairs[:, 1]]) <= params.max_gap.total_seconds()
    pairs = pairs[close]
    languages = [_language_key(doc.language) for doc in documents]
    squared = [value * value for value in idf]
    # Distinctive figures per feature, and how many each document gives.
    words = extractor.vocabulary
    figure_mask = np.zeros(vocabulary, dtype=bool)
    figure_mask[[f for f in extractor.figures if distinctive_figure(words[f])]] = True
    figure = figure_mask.tolist()
    figures_of = (
        np.bincount(words_owner[figure_mask[words_flat]], minlength=n_docs).tolist()
        if vocabulary
        else [0] * n_docs
    )
    union = _UnionFind(n_docs)
    links: dict[tuple[int, int], Link] = {}
    for i, j in pairs.tolist():
        fa, fb = features[i], features[j]
        shared_entities = fa.entities & fb.entities
        shared = len(shared_entities)
        overlap = 0.0
        if shared:
            overlap = sum([idf[f] for f in shared_entities]) / min(
                entity_weight[i], entity_weight[j]
            )
        common = fa.words & fb.words
        cosine = sum([squared[f] for f in common]) / (norms[i] * norms[j]) if common else 0.0
        cross = languages[i] != languages[j]
        figures = sum([figure[f] for f in shared_entities]) if shared else 0
        if (
            sources[i] >= 0
            and sources[i] == sources[j]
            and not figures
            and cosine < params.same_source_cosine
        ):
            # One site's two items sharing only names (its city, its beat).
            continue
        conflict = not figures and figures_of[i] > 0 and figures_of[j] > 0
        if _same_story(cosine, overlap, shared, cross, params, figures=figures, conflict=conflict):
            links[(i, j)] = Link(cosine, overlap, shared, cross, figures)
            union.union(i, j)
    labels = [union.find(i) for i in range(n_docs)]
    return Clustering(labels, links, features, idf, candidates)


def _source_codes(documents: Sequence[Document]) -> list[int]:
    """A number per document's source (-1: unknown), for same-source tests."""
    codes: dict[str, int] = {}
    return [-1 if not doc.source else codes.setdefault(doc.source, len(codes)) for doc in documents]


def _without_templates(
    features: BatchFeatures,
    sources: Sequence[int],
    n_docs: int,
    vocabulary: int,
    params: ClusterParams,
) -> BatchFeatures:
    """The features minus each source's template words (see the module docstring)."""
    if n_docs < params.template_min_docs or vocabulary == 0 or features.ids.size == 0:
        return features
    source_of = np.array(sources, dtype=np.int64)
    docs_per_source = np.bincount(source_of[source_of >= 0]) if (source_of >= 0).any() else None
    if docs_per_source is None or docs_per_source.max() < params.template_min_docs:
        return features
    owner_source = source_of[features.owners]
    large = docs_per_source >= params.template_min_docs
    # Only occurrences in documents of sources with enough documents can be template.
    candidates = np.flatnonzero((owner_source >= 0) & large[np.maximum(owner_source, 0)])
    # Occurrences are distinct per (document, feature), so counting (source,
    # feature) pairs counts the documents of that source with the feature.
    # np.unique, not a bincount over sources × vocabulary: that table would be
    # billions of cells for a day of many sources.
    key = owner_source[candidates] * vocabulary + features.ids[candidates]
    _unique, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    # At least three documents: two reports of one event by one site, or two of
    # its items naming the same city, are not yet a template.
    limit = np.maximum(np.ceil(params.template_share * docs_per_source), 3).astype(np.int64)
    template = np.zeros(features.ids.size, dtype=bool)
    template[candidates] = counts[inverse] >= limit[owner_source[candidates]]
    if not template.any():
        return features
    keep = ~template
    return BatchFeatures(features.ids[keep], features.owners[keep], n_docs, features.entity)


def _same_story(
    cosine: float,
    overlap: float,
    shared: int,
    cross: bool,
    params: ClusterParams,
    *,
    figures: int = 0,
    conflict: bool = False,
) -> bool:
    """The verification rule (see ClusterParams for the thresholds).

    Same language: text similarity alone, or entity evidence. Across
    languages: entity evidence only. Entity evidence is a share of the smaller
    text's entity weight plus a number of shared entities, one more without a
    shared distinctive figure; none when both texts give distinctive figures
    and no figure agrees (``conflict``, with ``figures_must_agree``).
    """
    if not cross and cosine >= params.same_language_cosine:
        return True
    if conflict and params.figures_must_agree:
        return False
    extra = 0 if figures else params.no_figure_extra_shared
    if cross:
        return overlap >= params.cross_language_overlap and (
            shared >= params.cross_language_min_shared + extra
        )
    return (
        overlap >= params.entity_overlap
        and shared >= params.min_shared_entities + extra
        and cosine >= params.min_cosine
    )


def similarity(
    a: AbstractSet[int],
    b: AbstractSet[int],
    idf: Sequence[float],
    *,
    norm_a: float | None = None,
    norm_b: float | None = None,
) -> float:
    """IDF-weighted cosine of two feature sets (binary term frequencies)."""
    common = a & b
    if not common:
        return 0.0
    na = norm_a if norm_a is not None else math.sqrt(sum(idf[f] ** 2 for f in a))
    nb = norm_b if norm_b is not None else math.sqrt(sum(idf[f] ** 2 for f in b))
    return sum(idf[f] ** 2 for f in common) / (na * nb)


def _language_key(language: str | None) -> str:
    # Two unknown languages count as the same (most likely one feed); one known
    # and one unknown as different, so only language-independent evidence counts.
    return (language or "").split("-")[0].split("_")[0].lower()
