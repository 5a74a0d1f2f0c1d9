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
  the IDF weighting in ``cluster`` tolerates);
* numbers, normalized so that "2,3" equals "2.3" and "9.000" equals "9,000";
* a short exonym table (München/Munich, Brüssel/Brussels ...), since place names
  are the most common names that do change in translation.

A batch costs one regex pass per text, one classification per distinct token
and a few array operations over all tokens (see :meth:`FeatureExtractor.batch`).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import chain
from typing import Final, overload

import numpy as np
import numpy.typing as npt

from digest.rank.minhash import I64, HashTable, distinct

STEM_LENGTH: Final = 6

# A number with its thousands groups and decimals ("2,3", "9.000", "7.4.2"), or
# a run of word characters. Hyphenated compounds split into their parts
# ("KI-Chips" -> "KI", "Chips") so they meet the English "AI chips"; a glued
# unit splits off ("30m" -> "30", "m").
_TOKEN: Final = re.compile(r"\d+(?:[.,]\d+)*|\w+")

# Place and country names that translation changes; both spellings map to the
# English one (after folding). Deliberately short: a wrong entry merges stories.
EXONYMS: Final = {
    "munchen": "munich",
    "koln": "cologne",
    "wien": "vienna",
    "brussel": "brussels",
    "genf": "geneva",
    "mailand": "milan",
    "lissabon": "lisbon",
    "prag": "prague",
    "warschau": "warsaw",
    "kopenhagen": "copenhagen",
    "moskau": "moscow",
    "peking": "beijing",
    "deutschland": "germany",
    "frankreich": "france",
    "italien": "italy",
    "spanien": "spain",
    "niederlande": "netherlands",
    "osterreich": "austria",
    "schweiz": "switzerland",
    "polen": "poland",
    "danemark": "denmark",
    "schweden": "sweden",
    "norwegen": "norway",
    "finnland": "finland",
    "europaische": "european",
    "europaischen": "european",
    "ki": "ai",
}

# Function words and newsroom filler of both languages, folded. Kept small on
# purpose: frequent content words are handled by document-frequency weighting.
_STOPWORD_TEXT: Final = """
    a about after again against all also an and any are as at be because been before being
    between both but by can could did do does during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just more most my no
    nor not now of off on once only or other our out over own same she should so some such
    than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    said says say according told new one two three first last year years week day days
    percent per cent mr ms its via yet still however also
    aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei
    beim bin bis bisher bereits da dabei damit dann darauf darum das dass dem den denen der
    des deshalb dessen die dies diese diesem diesen dieser dieses doch dort du durch ein
    eine einem einen einer eines er es etwa euch fur gegen gibt habe haben hat hatte hatten
    hier hin hinter ich ihm ihn ihr ihre ihrem ihren ihrer im in ins ist jedoch jetzt kann
    kein keine konnen konnte laut man mehr mit muss nach nicht noch nun nur ob oder ohne
    prozent sagte sagt sei seien sein seine seinem seinen seiner seit sich sie sind so soll
    sollen sollte sowie uber um und uns unter vom von vor war waren was weil weiter weitere
    wenn werden wie wieder will wir wird wurde wurden zu zum zur zwar zwei drei jahr jahre
    jahren woche tag tage tagen nach neue neuen neuer neues erste ersten
"""
STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())


def fold(token: str) -> str:
    """Case-fold and reduce to ASCII letters: "Müller" -> "muller", "Straße" -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    return decomposed.encode("ascii", "ignore").decode("ascii")


def stable_hash(feature: str) -> int:
    """A 64-bit hash that is the same in every process (``hash()`` is salted per run).

    Two C checksums side by side: much cheaper than a cryptographic hash, and
    MinHash only needs distinct features to get distinct values.
    """
    data = feature.encode()
    return (zlib.crc32(data) << 32) | zlib.adler32(data)


def number_feature(written: str) -> str:
    """A number's canonical form: "2,3" and "2.3" give "#2.3", "9.000" and "9,000" "#9000".

    A separator followed by exactly three digits is read as a thousands
    separator in either language; otherwise as the decimal point. Scale words
    are left out on purpose: "2,3 Millionen", "2.3 million" and "€2.3m" all
    give "#2.3", and a German "4,1 Billionen" meets the English "4.1 trillion".
    An English "1.024" (a decimal) is misread; news rarely writes one.
    """
    groups = re.split(r"[.,]", written)
    if len(groups) > 1 and all(len(group) == 3 for group in groups[1:]):
        return "#" + str(int("".join(groups)))
    if len(groups) == 2:
        return f"#{int(groups[0])}.{groups[1]}"
    return "#" + ".".join(str(int(group)) for group in groups)


@dataclass(frozen=True)
class DocFeatures:
    """One document's features as vocabulary ids (see :class:`FeatureExtractor`)."""

    words: AbstractSet[int]
    entities: AbstractSet[int]


class FeatureExtractor:
    """Maps texts to feature-id sets; ids index :attr:`vocabulary` and :attr:`hashes`.

    Ids depend on the documents fed in, so callers that need the same answer for
    any input order (the ranking does) sort their documents first. Cross-batch
    comparisons must use :attr:`hashes`, which are stable.
    """

    def __init__(self) -> None:
        self.vocabulary: list[str] = []
        self.hashes: list[int] = []
        self._ids: dict[str, int] = {}
        # raw token -> feature id (stop words are absent)
        self._words: dict[str, int] = {}
        self._known: set[str] = set()
        # Features written in lower case somewhere, and with a capital or digit.
        self._lower: set[int] = set()
        self._capital: set[int] = set()

    def _id(self, feature: str) -> int:
        found = self._ids.get(feature)
        if found is None:
            found = len(self.vocabulary)
            self._ids[feature] = found
            self.vocabulary.append(feature)
            self.hashes.append(stable_hash(feature))
        return found

    def _learn(self, tokens: set[str]) -> None:
        """Classify tokens not seen before (folding them all in one call)."""
        # Sorted, so feature ids follow the tokens, not set iteration order.
        new = sorted(tokens - self._known)
        if not new:
            return
        self._known.update(new)
        folded = fold("\n".join(new)).split("\n")
        for raw, plain in zip(new, folded, strict=True):
            if raw[0].isdigit():
                feature = self._id(number_feature(raw))
                self._capital.add(feature)
            elif len(plain) < 2 or plain in STOPWORDS:
                continue
            else:
                feature = self._id(EXONYMS.get(plain, plain)[:STEM_LENGTH])
                (self._lower if raw.islower() else self._capital).add(feature)
            self._words[raw] = feature

    def batch(self, texts: Sequence[str]) -> BatchFeatures:
        """Features of many texts, entities judged over all of them.

        Tokens become feature ids in bulk: every distinct token is classified
        once, then all tokens of the batch are looked up at once by their
        (cached) ``hash()`` in a :class:`HashTable`. A per-token dictionary look-up
        in Python costs more than the rest of the ranking at 100,000 articles,
        because the dictionary no longer fits the CPU caches. The salted
        ``hash()`` only indexes tokens within this call, so the result does not
        depend on it.
        """
        findall = _TOKEN.findall
        token_sets = [set(findall(text)) for text in texts]
        seen = set().union(*token_sets)
        self._learn(seen)
        n_docs = len(texts)
        lengths = np.fromiter(map(len, token_sets), dtype=np.int64, count=n_docs)
        total = int(lengths.sum())
        tokens = list(seen)
        token_hash = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens))
        word = self._words.get
        token_feature = np.fromiter(
            (word(token, -1) for token in tokens), dtype=np.int64, count=len(tokens)
        )
        table = HashTable(token_hash, token_feature)
        flat_hash = np.fromiter(
            map(hash, chain.from_iterable(token_sets)), dtype=np.int64, count=total
        )
        flat = table.get(flat_hash)
        owners = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        keep = flat >= 0
        # Two spellings of one stem ("KI", "Ki") in a document count once; the
        # unique also sorts by document, then feature.
        vocabulary = max(len(self.vocabulary), 1)
        keys = distinct(owners[keep] * vocabulary + flat[keep])
        entity = np.zeros(vocabulary, dtype=bool)
        entity[sorted(self._capital - self._lower)] = True
        return BatchFeatures(keys % vocabulary, keys // vocabulary, n_docs, entity)


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
