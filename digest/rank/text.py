"""Text features for story clustering: folded word stems, entity-like tokens, numbers.

One :class:`FeatureExtractor` turns a batch of texts into integer feature sets.
A feature is a *stem*: the token case-folded, umlauts and accents folded to
ASCII, cut to its first ``STEM_LENGTH`` characters. Prefix truncation is a
crude stemmer, but it is language-free and surprisingly good for German and
English news: "Veltrions"/"Veltrion", "Parameter"/"parameters" and even
"Mammographie"/"mammography" meet on the same stem.

Besides the plain stems a document has *entity* features, the evidence that
survives translation:

* stems never written in lower case anywhere in the batch: names, products,
  acronyms (and German nouns without an English lower-case cognate, which
  the IDF weighting in ``cluster`` tolerates). A capitalized word is first
  reduced to a base that the batch (or the place tables) knows, so that the
  short names prefix truncation misses meet too: "Pariser"/"Paris",
  "Dresdner"/"Dresden", "Bremer"/"Bremen", "Vindos"/"Vindo",
  "Parisian"/"Paris" (see :func:`base_name`);
* figures, as values: "zwei Millionen", "2 Mio.", "2.000.000", "2,000,000"
  and "$2m" are all ``#2000000``; "zwölf" and "12" are ``#12``;
  "zweieinhalb Milliarden" and "€2.5bn" ``#2500000000`` (see
  ``lexicon.read_number``). Figures are always entities;
* places and countries under their English name, as features of their own
  kind ("@munich" for München, Münchner, Munich; "@germany" for
  Deutschlands, deutsche, Germany, German: ``lexicon.EXONYMS`` and
  ``lexicon.DEMONYMS``), always entities too. Only capitalized words and
  German place adjectives are places: "turkey" is a bird, "Turkey" a place.

Hyphenated compounds give the features of their parts ("Hexwell-Chefin" ->
"hexwell", "chefin"; "KI-Chips" -> "ai", "chips"), soft hyphens and
zero-width characters are ignored.

A batch costs one regex pass per text, one classification per distinct token
and a few array operations over all tokens (see :meth:`FeatureExtractor.batch`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from typing import Final, overload

import numpy as np
import numpy.typing as npt

from digest.rank.lexicon import (
    ACRONYMS,
    DEMONYMS,
    EXONYMS,
    STOPWORDS,
    canonical,
    number_word,
    read_number,
)
from digest.rank.minhash import I64, HashTable, distinct
from digest.rank.tokens import (
    INVISIBLE,
    INVISIBLE_RE,
    NUMBER_START,
    PHRASE,
    PLACE_OF,
    TOKEN,
    WORD_SCALES,
    base_name,
    distinctive_figure,
    fold,
    number_feature,
    stable_hash,
)

__all__ = [
    "EXONYMS",
    "STEM_LENGTH",
    "STOPWORDS",
    "BatchFeatures",
    "DocFeatures",
    "FeatureExtractor",
    "base_name",
    "distinctive_figure",
    "fold",
    "number_feature",
    "stable_hash",
]

STEM_LENGTH: Final = 6


@dataclass(frozen=True)
class DocFeatures:
    """One document's features as vocabulary ids (see :class:`FeatureExtractor`)."""

    words: AbstractSet[int]
    entities: AbstractSet[int]


class FeatureExtractor:
    """Maps texts to feature-id sets; ids index :attr:`vocabulary` and :attr:`hashes`.

    Ids depend on the documents fed in, so callers that need the same answer for
    any input order (the ranking does) sort their documents first. Cross-batch
    comparisons must use :attr:`hashes`, which are stable. A token is
    classified when it is first seen, against the capitalized words of that
    batch and the earlier ones (see :func:`base_name`).
    """

    def __init__(self) -> None:
        self.vocabulary: list[str] = []
        self.hashes: list[int] = []
        self._ids: dict[str, int] = {}
        # raw token -> its (first) feature id, -1 for none (stop words); the
        # few tokens with more features (hyphenated compounds) keep the others
        # in _rest.
        self._first: dict[str, int] = {}
        self._rest: dict[str, tuple[int, ...]] = {}
        self._phrase_cache: dict[str, bool] = {}
        self._known: set[str] = set()
        # Folded capitalized words seen so far: the bases names may reduce to.
        self._capitalized: set[str] = set()
        # Features written in lower case somewhere, with a capital, and those
        # that are entities whatever their case (figures, places).
        self._lower: set[int] = set()
        self._capital: set[int] = set()
        self._always: set[int] = set()
        # Feature ids that are figures ("#12", "#2300000").
        self.figures: set[int] = set()

    def _id(self, feature: str) -> int:
        found = self._ids.get(feature)
        if found is None:
            found = len(self.vocabulary)
            self._ids[feature] = found
            self.vocabulary.append(feature)
            self.hashes.append(stable_hash(feature))
        return found

    def _figure(self, written: str) -> int:
        feature = self._id(number_feature(written))
        self._always.add(feature)
        self.figures.add(feature)
        return feature

    def _classify(self, words: list[tuple[str, str]]) -> list[int]:
        """The feature id of each (raw, folded) word or word part, -1 for none.

        One loop with everything bound to locals: it runs once per distinct
        token of the batch (about 600,000 at 100,000 articles).
        """
        ids, new_id = self._ids, self._id
        capital_set, lower_set, always = self._capital, self._lower, self._always
        known = self._capitalized
        demonyms, place_of, acronyms, stop = DEMONYMS, PLACE_OF, ACRONYMS, STOPWORDS
        number_start, figure = NUMBER_START, self._figure
        result: list[int] = []
        append = result.append
        for raw, plain in words:
            if len(plain) < 2 or plain in stop:
                append(-1)
                continue
            if plain[0].isdigit():
                append(figure(plain))
                continue
            if plain[:3] in number_start:
                value = number_word(plain)
                if value is not None:
                    append(self._figure_value(value))
                    continue
            # Places only from capitalized words ("Turkey", not a turkey),
            # and from German place adjectives, which are lower case.
            base = demonyms.get(plain)
            capital = raw[0].isupper()
            if base is not None:
                place = place_of.get(base)
            elif capital:
                base = plain
                if plain[-1] in "srn" and plain not in place_of:
                    base = base_name(plain, known)
                place = place_of.get(base)
                if place is None:
                    base = acronyms.get(base, base)
            else:
                base, place = plain, None
            # A place is its own kind of feature, so that a word written like
            # it ("turkey", "china") never meets it.
            stem = "@" + place if place is not None else base[:STEM_LENGTH]
            feature = ids.get(stem)
            if feature is None:
                feature = new_id(stem)
            if place is not None:
                always.add(feature)
            if capital or not raw.islower():
                capital_set.add(feature)
            else:
                lower_set.add(feature)
            append(feature)
        return result

    def _learn(self, tokens: set[str]) -> None:
        """Classify tokens not seen before (folding them all in one call)."""
        # Sorted, so feature ids follow the tokens, not set iteration order.
        new = sorted(tokens - self._known)
        if not new:
            return
        self._known.update(new)
        folded = fold("\n".join(new)).split("\n")
        first, rest = self._first, self._rest
        # Sorted tokens that start with a digit come first (ASCII digits sort
        # before letters): figures, classified one by one.
        words_start = bisect_left(new, ":")
        for raw in new[:words_start]:
            first[raw] = self._figure(raw)
        # Plain words (nearly all the rest) in bulk; hyphenated or spaced
        # tokens split into parts.
        simple: list[tuple[str, str]] = []
        compound: list[tuple[str, str]] = []
        for pair in zip(new[words_start:], folded[words_start:], strict=True):
            raw = pair[0]
            (compound if "-" in raw or " " in raw else simple).append(pair)
        parts: list[tuple[str, str]] = []
        owners: list[str] = []
        for raw, plain in compound:
            value = read_number(raw)
            if value is not None:
                # "zwei Millionen", "twenty-three": one figure.
                first[raw] = self._figure_value(value)
                continue
            raw_parts = re.split(r"[- ]", raw)
            plain_parts = re.split(r"[- ]", plain)
            if len(raw_parts) != len(plain_parts):  # a dash folded away
                raw_parts, plain_parts = [raw], [plain.replace("-", "")]
            for r, p in zip(raw_parts, plain_parts, strict=True):
                if r:
                    parts.append((r, p))
                    owners.append(raw)
        # Every capitalized word (or part) is a possible base for the others,
        # so all are collected before any is classified.
        self._capitalized.update([p for r, p in chain(simple, parts) if r[0].isupper()])
        classified = self._classify(simple + parts)
        first.update(zip((raw for raw, _ in simple), classified[: len(simple)], strict=True))
        features: dict[str, list[int]] = {raw: [] for raw in owners}
        for raw, feature in zip(owners, classified[len(simple) :], strict=True):
            found = features[raw]
            if feature >= 0 and feature not in found:
                found.append(feature)
        for raw, found in features.items():
            first[raw] = found[0] if found else -1
            if len(found) > 1:
                rest[raw] = tuple(found[1:])

    def _figure_value(self, value: Decimal) -> int:
        feature = self._id(canonical(value))
        self._always.add(feature)
        self.figures.add(feature)
        return feature

    def _phrases(self, tokens: set[str], text: str) -> None:
        """Add the figures written in words with a scale word ("zwei Millionen") to ``tokens``.

        The number word itself is taken out, so "zwei Millionen" is #2000000
        and not also #2.
        """
        for head, scale in PHRASE.findall(text):
            phrase = f"{head} {scale}"
            is_figure = self._phrase_cache.get(phrase)
            if is_figure is None:
                is_figure = self._phrase_cache[phrase] = read_number(phrase) is not None
            if is_figure:
                tokens.add(phrase)
                tokens.discard(head)

    def batch(self, texts: Sequence[str]) -> BatchFeatures:
        """Features of many texts, entities judged over all of them.

        Tokens become feature ids in bulk: every distinct token is classified
        once, then all tokens of the batch are looked up at once by their
        (cached) ``hash()`` in a :class:`HashTable`. A per-token dictionary look-up
        in Python costs more than the rest of the ranking at 100,000 articles,
        because the dictionary no longer fits the CPU caches. The salted
        ``hash()`` only indexes tokens within this call, so the result does not
        depend on it. Most tokens have one feature; the few with several
        (hyphenated compounds) add their other features in a second step.
        """
        findall = TOKEN.findall
        token_sets = []
        joined = "".join(texts)
        if any(char in joined for char in INVISIBLE):
            texts = [INVISIBLE_RE.sub("", text) for text in texts]
        del joined
        for text in texts:
            tokens = set(findall(text))
            if not WORD_SCALES.isdisjoint(tokens):
                self._phrases(tokens, text)
            token_sets.append(tokens)
        seen = set().union(*token_sets)
        self._learn(seen)
        n_docs = len(texts)
        lengths = np.fromiter(map(len, token_sets), dtype=np.int64, count=n_docs)
        total = int(lengths.sum())
        distinct_tokens = list(seen)
        count = len(distinct_tokens)
        token_hash = np.fromiter(map(hash, distinct_tokens), dtype=np.int64, count=count)
        first = np.fromiter(
            map(self._first.__getitem__, distinct_tokens), dtype=np.int64, count=count
        )
        table = HashTable(token_hash, np.arange(count, dtype=np.int64))
        flat_hash = np.fromiter(
            map(hash, chain.from_iterable(token_sets)), dtype=np.int64, count=total
        )
        flat_token = table.get(flat_hash)
        flat = first[flat_token]
        owners = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        rest = self._rest
        multi = [token for token in rest if token in seen] if rest else []
        if multi:
            where = table.get(np.fromiter(map(hash, multi), dtype=np.int64, count=len(multi)))
            more = list(zip(where.tolist(), [rest[token] for token in multi], strict=True))
            flat, owners = _add_rest(flat, owners, flat_token, more, count)
        keep = flat >= 0
        # Two spellings of one stem ("KI", "Ki") in a document count once; the
        # unique also sorts by document, then feature.
        vocabulary = max(len(self.vocabulary), 1)
        keys = distinct(owners[keep] * vocabulary + flat[keep])
        entity = np.zeros(vocabulary, dtype=bool)
        entity[sorted((self._capital - self._lower) | self._always)] = True
        return BatchFeatures(keys % vocabulary, keys // vocabulary, n_docs, entity)


def _add_rest(
    flat: I64, owners: I64, flat_token: I64, more: list[tuple[int, tuple[int, ...]]], count: int
) -> tuple[I64, I64]:
    """Append the further features of multi-feature tokens to the flat arrays.

    ``more`` pairs a distinct token's index with its features after the first;
    every occurrence of such a token (``flat_token``) gets them for its owner.
    """
    extra_count = np.zeros(count, dtype=np.int64)
    extra_start = np.zeros(count, dtype=np.int64)
    extra_ids: list[int] = []
    for index, features in more:
        extra_count[index] = len(features)
        extra_start[index] = len(extra_ids)
        extra_ids.extend(features)
    extras = np.array(extra_ids, dtype=np.int64)
    hits = np.flatnonzero(extra_count[flat_token] > 0)
    hit_token = flat_token[hits]
    counts = extra_count[hit_token]
    ends = np.cumsum(counts)
    inner = np.arange(int(ends[-1]) if ends.size else 0) - np.repeat(ends - counts, counts)
    picked = extras[np.repeat(extra_start[hit_token], counts) + inner]
    return np.concatenate((flat, picked)), np.concatenate((owners, np.repeat(owners[hits], counts)))


class BatchFeatures(Sequence[DocFeatures]):
    """A batch's features as flat arrays, and per document as sets on demand.

    ``ids[k]`` is a feature of document ``owners[k]``; entries are sorted by
    document, then feature, without repeats. ``entity[f]`` says whether feature
    ``f`` is an entity.
    """

    def __init__(self, ids: I64, owners: I64, n_docs: int, entity: npt.NDArray[np.bool_]) -> None:
        self.ids = ids
        self.owners = owners
        self.entity = entity
        self._starts = np.searchsorted(owners, np.arange(n_docs + 1)).tolist()
        self._n_docs = n_docs
        self._cache: dict[int, DocFeatures] = {}
        self._entity_set = set(np.flatnonzero(entity).tolist())

    def __len__(self) -> int:
        return self._n_docs

    @overload
    def __getitem__(self, index: int) -> DocFeatures: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DocFeatures]: ...
    def __getitem__(self, index: int | slice) -> DocFeatures | Sequence[DocFeatures]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        found = self._cache.get(index)
        if found is None:
            words = set(self.ids[self._starts[index] : self._starts[index + 1]].tolist())
            found = self._cache[index] = DocFeatures(words, words & self._entity_set)
        return found
