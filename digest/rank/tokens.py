"""Tokens for story clustering: the tokenizer, folding, figures and name bases.

Pure functions and constants over single tokens; :mod:`digest.rank.text`
builds the batch features from them.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Set as AbstractSet
from decimal import Decimal, InvalidOperation
from typing import Final

from digest.rank.lexicon import DEMONYMS, EXONYMS, canonical, read_number

# Characters inside words that are not part of them: soft hyphen, zero-width
# space and joiners, word joiner, BOM. Removed before tokenizing (checked
# with `in` first: nearly no text has them), so a word is not cut in two.
INVISIBLE: Final = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
INVISIBLE_RE: Final = re.compile("[" + "".join(INVISIBLE) + "]")
_PLAIN_FIGURE: Final = re.compile(r"\d+(?:[.,]\d+)*")
# Scale words written after a figure, with a space ("2 Mio.", "1,2 Milliarden",
# "$1.2 billion") or glued to it ("€2.3m", "1.2bn").
_SPACED_SCALE: Final = (
    r"(?:Mio|Mrd|Tsd|Mill|Millionen|Million|Milliarden|Milliarde|Billionen|Billion"
    r"|Tausend|millions?|billions?|trillions?|thousand|bn|mn)"
)
_GLUED_SCALE: Final = r"(?:bn|mn|m|k|Mio|Mrd)"
# A token is a word with its hyphenated parts ("Hexwell-Chefin",
# "twenty-three"), or a figure: digits with thousands groups or decimals and a
# scale word if one follows. Thousands groups may be separated by a no-break
# or narrow no-break space ("400 000"), never by a plain one ("Linie 4 300
# Fahrgäste"). Words come first, so a letter never tries the figure branch.
TOKEN: Final = re.compile(
    r"[^\W\d]\w*(?:-\w+)*|\d+(?:[.,\u00a0\u202f]\d+)*"
    rf"(?:{_GLUED_SCALE}\b\.?|\s{_SPACED_SCALE}\b\.?)?"
)
# Figures in words with a scale word ("zwei Millionen", "eine Milliarde"):
# looked for only in texts that have one of these scale words, and kept only
# if the phrase reads as a figure (see FeatureExtractor._phrases).
WORD_SCALES: Final = frozenset(
    [
        "Millionen",
        "Million",
        "Milliarden",
        "Milliarde",
        "Billionen",
        "Mio",
        "Mrd",
        "Tausend",
        "million",
        "millions",
        "billion",
        "billions",
        "trillion",
        "thousand",
    ]
)
PHRASE: Final = re.compile(
    r"\b([^\W\d]+(?:-[^\W\d]+)?)\s(Millionen|Million|Milliarden|Milliarde|Billionen|Mio|Mrd|Tausend"
    r"|millions?|billions?|trillion|thousand)\b"
)
# First three letters of every number word (see lexicon.number_word): other
# words skip the number reader.
NUMBER_START: Final = frozenset(
    word[:3]
    for word in [
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "dozen",
        "dutzend",
        "zwei",
        "drei",
        "vier",
        "funf",
        "sechs",
        "sieben",
        "acht",
        "neun",
        "zehn",
        "elf",
        "zwolf",
        "zwanzig",
        "dreissig",
        "vierzig",
        "funfzig",
        "sechzig",
        "siebzig",
        "achtzig",
        "neunzig",
        "hundert",
        "tausend",
        "anderthalb",
        "eineinhalb",
        "einhundert",
        "eintausend",
        "einundzwanzig",
    ]
)

# Suffixes a capitalized word may lose to meet its base ("Pariser" -> "paris",
# "Dresdner" -> "dresden", "Deutschlands" -> "deutschland", "Parisian" ->
# "paris"), with what replaces them and whether the base may be any
# capitalized word of the batch (True) or must be a place of the tables
# (False: "Bayern" must not become "Bayer").
_SUFFIXES: Final = (
    ("s", "", True),
    ("es", "", True),
    ("ner", "en", True),
    ("er", "en", True),
    ("er", "", True),
    ("ner", "", True),
    ("ier", "ien", True),
    ("ian", "", True),
    ("n", "", False),
)
PLACES: Final = frozenset(EXONYMS) | frozenset(EXONYMS.values())
# Either name of a place -> its English name ("munchen" and "munich" -> "munich").
PLACE_OF: Final = {**{name: name for name in EXONYMS.values()}, **EXONYMS}


def fold(token: str) -> str:
    """Case-fold and reduce to ASCII letters: "Müller" -> "muller", "Straße" -> "strasse".

    Letters without a decomposition get their usual transcription ("ø" -> "o",
    "æ" -> "ae", "ł" -> "l"); soft hyphens and zero-width characters vanish.
    """
    decomposed = unicodedata.normalize("NFKD", token.casefold().translate(_TRANSCRIBE))
    return decomposed.encode("ascii", "ignore").decode("ascii")


_TRANSCRIBE: Final = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def stable_hash(feature: str) -> int:
    """A 64-bit hash that is the same in every process (``hash()`` is salted per run).

    Two C checksums side by side: much cheaper than a cryptographic hash, and
    MinHash only needs distinct features to get distinct values.
    """
    data = feature.encode()
    return (zlib.crc32(data) << 32) | zlib.adler32(data)


def number_feature(written: str) -> str:
    """A figure's canonical feature: "2,3" and "2.3" give "#2.3", "9.000" and "9,000" "#9000".

    Scale words count: "2,3 Millionen", "2.3 million" and "€2.3m" all give
    "#2300000" (see ``lexicon.read_number`` for the rules). A run of groups
    that is not one number ("7.4.2", a version) keeps its groups: "#7.4.2".
    """
    if written.isdigit():
        return "#" + (written.lstrip("0") or "0")
    if _PLAIN_FIGURE.fullmatch(written):
        # Digits and separators only (most figures): the rule of
        # lexicon.read_number without Decimal arithmetic.
        groups = written.replace(",", ".").split(".")
        if all(len(group) == 3 for group in groups[1:]):
            return "#" + ("".join(groups).lstrip("0") or "0")
        if len(groups) == 2:
            whole, fraction = str(int(groups[0])), groups[1].rstrip("0")
            return f"#{whole}.{fraction}" if fraction else f"#{whole}"
        return "#" + ".".join(str(int(group)) for group in groups)
    value = read_number(written)
    if value is not None:
        return canonical(value)
    groups = re.findall(r"\d+", written)
    return "#" + ".".join(str(int(group)) for group in groups)


def distinctive_figure(feature: str) -> bool:
    """Whether a feature is a figure that tells stories apart.

    Years (1900-2100) and small counts (up to 10: "zwei Tote", "Linie 4")
    recur in unrelated stories of the same days; other figures ("#12",
    "#0.3", "#1200000000") rarely do. A thousand written "2.000" reads as a
    year too: it only loses weight, it still counts as a shared entity.
    """
    if not feature.startswith("#"):
        return False
    try:
        value = Decimal(feature[1:])
    except InvalidOperation:  # a version "#7.4.2"
        return True
    if value == value.to_integral_value():
        return not (value <= 10 or 1900 <= value <= 2100)
    return True


def base_name(plain: str, known: AbstractSet[str]) -> str:
    """The base a folded capitalized word stands for, given the words ``known`` to the batch.

    "pariser" -> "paris" when "paris" is known; "munchner" -> "munchen" and
    "zurcher" -> "zurich" from the tables; a word without a known base is
    its own base. Only a base of at least three letters (four when "es" or
    "n" is cut) counts, so "Bauer" does not become a three-letter word
    unless the batch has it.
    """
    found = DEMONYMS.get(plain)
    if found is not None:
        return found
    if plain in PLACES or plain[-1] not in "srn":  # every suffix ends in s, r or n
        return plain
    for suffix, replacement, any_word in _SUFFIXES:
        if plain.endswith(suffix):
            stem = plain[: -len(suffix)]
            if len(stem) < (4 if suffix in ("es", "n") else 3):
                continue
            candidate = stem + replacement
            if candidate in PLACES or (any_word and candidate in known):
                return candidate
    return plain
