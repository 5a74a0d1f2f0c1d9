"""Small German/English word tables for story clustering, and the number reader.

Everything here works on *folded* words (lower case, ASCII: see
``text.fold``) and is deliberately short: every entry is a chance to merge two
stories, so only words that news in both languages write differently for the
same thing are listed.

* :data:`EXONYMS`: places and countries whose names change between German and
  English (München/Munich, Genf/Geneva, Deutschland/Germany), mapped to the
  English name. Places written alike in both languages need no entry.
* :data:`ACRONYMS`: the few acronyms news writes differently (KI/AI, EZB/ECB).
* :data:`DEMONYMS`: inhabitant and adjective forms that the inflection rules
  of ``text`` cannot derive (Zürcher, Basler, Swiss, Dutch, französisch...).
* :data:`STOPWORDS`: function words, newsroom filler, weekdays and months.
* :func:`read_number`: figures in digits or words, with scale words and
  currency signs, as one value ("zwei Millionen" = "2 Mio." = "2,000,000").
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

EXONYMS: Final = {
    # Cities
    "munchen": "munich",
    "koln": "cologne",
    "wien": "vienna",
    "brussel": "brussels",
    "genf": "geneva",
    "mailand": "milan",
    "rom": "rome",
    "neapel": "naples",
    "venedig": "venice",
    "florenz": "florence",
    "lissabon": "lisbon",
    "prag": "prague",
    "warschau": "warsaw",
    "krakau": "krakow",
    "kopenhagen": "copenhagen",
    "moskau": "moscow",
    "kiew": "kyiv",
    "kyjiw": "kyiv",
    "kiev": "kyiv",
    "peking": "beijing",
    "nurnberg": "nuremberg",
    "hannover": "hanover",
    "athen": "athens",
    "bukarest": "bucharest",
    "belgrad": "belgrade",
    "luttich": "liege",
    "antwerpen": "antwerp",
    "gent": "ghent",
    # Countries and regions
    "deutschland": "germany",
    "frankreich": "france",
    "italien": "italy",
    "spanien": "spain",
    "niederlande": "netherlands",
    "holland": "netherlands",
    "belgien": "belgium",
    "osterreich": "austria",
    "schweiz": "switzerland",
    "polen": "poland",
    "tschechien": "czechia",
    "ungarn": "hungary",
    "griechenland": "greece",
    "turkei": "turkey",
    "danemark": "denmark",
    "schweden": "sweden",
    "norwegen": "norway",
    "finnland": "finland",
    "grossbritannien": "britain",
    "irland": "ireland",
    "russland": "russia",
    "indien": "india",
    "kenia": "kenya",
    "agypten": "egypt",
    "amerika": "america",
    "afrika": "africa",
    "asien": "asia",
    "europa": "europe",
    "bayern": "bavaria",
    "sachsen": "saxony",
    "ostsee": "baltic",
}

# Acronyms that differ between the languages (not places: plain words).
ACRONYMS: Final = {
    "ezb": "ecb",
    "ki": "ai",
}

# Forms the suffix rules of ``text.base_name`` do not reach, mapped to the key
# they mean (then looked up in EXONYMS). German place adjectives are written
# in lower case ("die französische Regierung") and count as the place.
_DEMONYM_FORMS: Final = {
    "zurcher": "zurich",
    "basler": "basel",
    "munchner": "munchen",
    "munchener": "munchen",
    "swiss": "switzerland",
    "dutch": "netherlands",
    "french": "france",
    "polish": "poland",
    "swedish": "sweden",
    "danish": "denmark",
    "spanish": "spain",
    "italian": "italy",
    "czech": "czechia",
    "british": "britain",
    "viennese": "vienna",
    "german": "deutschland",
    "european": "europa",
    "ukrainian": "ukraine",
    "chinese": "china",
    "japanese": "japan",
    "turkish": "turkey",
    "greek": "greece",
    "hungarian": "hungary",
    "norwegian": "norway",
    "finnish": "finland",
    "irish": "ireland",
    "belgian": "belgium",
    "portuguese": "portugal",
    "europaer": "europa",
    "schweizer": "schweiz",
}
# German adjective stems of places, with every ending ("russisch", "russische",
# "russischen", "russischer", "russisches", "russischem").
_GERMAN_ADJECTIVES: Final = {
    "deutsch": "deutschland",
    "franzosisch": "frankreich",
    "italienisch": "italien",
    "spanisch": "spanien",
    "schwedisch": "schweden",
    "polnisch": "polen",
    "osterreichisch": "osterreich",
    "schweizerisch": "schweiz",
    "niederlandisch": "niederlande",
    "danisch": "danemark",
    "tschechisch": "tschechien",
    "britisch": "grossbritannien",
    "russisch": "russland",
    "ukrainisch": "ukraine",
    "chinesisch": "china",
    "japanisch": "japan",
    "turkisch": "turkei",
    "griechisch": "griechenland",
    "ungarisch": "ungarn",
    "amerikanisch": "amerika",
    "europaisch": "europa",
    "bayerisch": "bayern",
    "sachsisch": "sachsen",
}
DEMONYMS: Final = {
    **_DEMONYM_FORMS,
    **{
        stem + ending: place
        for stem, place in _GERMAN_ADJECTIVES.items()
        for ending in ("", "e", "en", "er", "es", "em")
    },
}

# Function words and newsroom filler of both languages, weekdays and months
# (every report of a day shares them), folded. Kept small on purpose: frequent
# content words are handled by document-frequency weighting. Number words are
# not here: ``read_number`` turns them into figures.
_STOPWORD_TEXT: Final = """
    a about after again against all also an and any are as at be because been before being
    between both but by can could did do does during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just more most my no
    nor not now of off on once only or other our out over own same she should so some such
    than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    said says say according told new one first last year years week day days
    percent per cent mr ms its via yet still however also
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei
    beim bin bis bisher bereits da dabei damit dann darauf darum das dass dem den denen der
    des deshalb dessen die dies diese diesem diesen dieser dieses doch dort du durch ein
    eine einem einen einer eines er es etwa euch fur gegen gibt habe haben hat hatte hatten
    hier hin hinter ich ihm ihn ihr ihre ihrem ihren ihrer im in ins ist jedoch jetzt kann
    kein keine konnen konnte laut man mehr mit muss nach nicht noch nun nur ob oder ohne
    prozent sagte sagt sei seien sein seine seinem seinen seiner seit sich sie sind so soll
    sollen sollte sowie uber um und uns unter vom von vor war waren was weil weiter weitere
    wenn werden wie wieder will wir wird wurde wurden zu zum zur zwar jahr jahre
    jahren woche tag tage tagen nach neue neuen neuer neues erste ersten
    montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag
    januar februar marz april mai juni juli august september oktober november dezember
"""
STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())

# Number words. German compounds ("dreiundzwanzig", "zweihundert",
# "vierhunderttausend", "zweieinhalb") are read by _german_number from these.
_EN_NUMBERS: Final = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "dozen": 12,
    "dutzend": 12,
}
_DE_UNITS: Final = {
    "ein": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "funf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
}
_DE_SMALL: Final = {
    **{k: v for k, v in _DE_UNITS.items() if k != "ein"},
    "eins": 1,
    "zehn": 10,
    "elf": 11,
    "zwolf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "funfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
}
_DE_TENS: Final = {
    "zwanzig": 20,
    "dreissig": 30,
    "vierzig": 40,
    "funfzig": 50,
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
}
# Words that only mean a number before a scale word ("eine Million", "half a").
_ONE: Final = {word: Decimal(1) for word in ("one", "ein", "eine", "einer", "einem", "einen")}
_HALF: Final = {"half": Decimal("0.5"), "halbe": Decimal("0.5"), "halben": Decimal("0.5")}

_THOUSAND = 10**3
_MILLION = 10**6
_BILLION = 10**9
_TRILLION = 10**12
# Scale words after a figure, folded (a trailing "." is dropped first).
# "Billion" is German 10**12 but English 10**9: see _scale.
SCALES: Final = {
    "tausend": _THOUSAND,
    "tsd": _THOUSAND,
    "thousand": _THOUSAND,
    "k": _THOUSAND,
    "mio": _MILLION,
    "mill": _MILLION,
    "million": _MILLION,
    "millionen": _MILLION,
    "millions": _MILLION,
    "mn": _MILLION,
    "m": _MILLION,
    "mrd": _BILLION,
    "milliarde": _BILLION,
    "milliarden": _BILLION,
    "billion": _BILLION,
    "billions": _BILLION,
    "bn": _BILLION,
    "billionen": _TRILLION,
    "trillion": _TRILLION,
    "trillions": _TRILLION,
}

_DIGITS: Final = re.compile(r"\d+(?:[.,\u00a0\u202f]\d+)*")


def _german_below_thousand(word: str) -> int | None:
    """ "dreiundzwanzig" 23, "zweihundertfunfzig" 250, "hundert" 100; else None."""
    value = 0
    if "hundert" in word:
        head, _, word = word.partition("hundert")
        if head:
            hundreds = _DE_UNITS.get(head)
            if hundreds is None:
                return None
            value = 100 * hundreds
        else:
            value = 100
        if not word:
            return value
    found = _DE_SMALL.get(word) or _DE_TENS.get(word)
    if found is not None:
        return value + found
    unit, sep, tens = word.partition("und")
    if sep and unit in _DE_UNITS and tens in _DE_TENS:
        return value + _DE_UNITS[unit] + _DE_TENS[tens]
    return None


def _german_number(word: str) -> Decimal | None:
    """A German number word, folded: "zwolf", "zweitausend", "zweieinhalb"; else None."""
    if word in ("anderthalb", "eineinhalb"):
        return Decimal("1.5")
    if word.endswith("einhalb") and len(word) > 7:
        whole = _german_number(word[:-7])
        return None if whole is None else whole + Decimal("0.5")
    if "tausend" in word:
        head, _, rest = word.partition("tausend")
        thousands = _german_below_thousand(head) if head else 1
        below = _german_below_thousand(rest) if rest else 0
        if thousands is None or below is None:
            return None
        return Decimal(thousands * _THOUSAND + below)
    found = _german_below_thousand(word)
    return None if found is None else Decimal(found)


def number_word(word: str) -> Decimal | None:
    """The value of a folded number word on its own ("zwolf", "twelve", "dreihundert").

    "ein"/"one" are not numbers on their own (articles, pronouns), nor are
    ordinals or plurals ("dritte", "thousands").
    """
    found = _EN_NUMBERS.get(word)
    if found is not None:
        return Decimal(found)
    if len(word) < 3 or not word.isalpha():
        return None
    return _german_number(word)


def _english_compound(word: str) -> Decimal | None:
    """ "twenty-three" 23 (the tokenizer keeps hyphenated words together)."""
    tens, sep, unit = word.partition("-")
    if not sep:
        return None
    t, u = _EN_NUMBERS.get(tens, 0), _EN_NUMBERS.get(unit, 0)
    if t in (20, 30, 40, 50, 60, 70, 80, 90) and 0 < u < 10:
        return Decimal(t + u)
    return None


def _digits(written: str) -> Decimal | None:
    """Digits with separators: "2,3" and "2.3" are 2.3; "9.000", "9,000", "9 000" 9000.

    A separator followed by exactly three digits is a thousands separator in
    either language (so an English "1.024" reads as 1024: news rarely writes
    such a decimal); a single other separator is the decimal point. Anything
    else (a version "7.4.2") is not one number.
    """
    groups = re.split(r"[.,\u00a0\u202f]", written)
    if len(groups) > 1 and all(len(group) == 3 for group in groups[1:]):
        return Decimal("".join(groups))
    if len(groups) == 2 and "\u00a0" not in written and "\u202f" not in written:
        return Decimal(f"{groups[0]}.{groups[1]}")
    if len(groups) == 1:
        return Decimal(groups[0])
    return None


def _scale(word: str, number: str) -> int | None:
    folded = word.rstrip(".").casefold()
    factor = SCALES.get(folded)
    if folded == "billion" and word[:1] == "B" and "," in number and "." not in number:
        # "1,2 Billion(en)": a decimal comma, so German, where Billion is 10**12.
        return _TRILLION
    return factor


def read_number(token: str) -> Decimal | None:
    """The value of a figure token from the tokenizer, or None if it is not one.

    Tokens are digits with optional currency sign, separators and scale word
    ("€2.3m", "1,2 Milliarden", "2 Mio.", "400\u00a0000", "$1.2 billion"),
    or words ("zwölf", "zwei Millionen", "twenty-three", "eine Million"),
    folded or not. Currencies and units are left out: "€2.3m", "2,3 Millionen
    Euro" and "2.3 million dollars" are all 2,300,000.
    """
    text = token.lstrip("€$£¥")
    head, _, scale_word = text.partition(" ")
    match = _DIGITS.match(head)
    if match:
        written, glued = head[: match.end()], head[match.end() :]
        value = _digits(written)
        if value is None:
            return None
        scale_word = scale_word or glued
        if not scale_word:
            return value
        factor = _scale(scale_word, written)
        return None if factor is None else value * factor
    word = head.casefold()
    if not scale_word:
        return _english_compound(word) or number_word(word)
    factor = _scale(scale_word, "")
    if factor is None:
        return None
    value = _english_compound(word) or number_word(word) or _ONE.get(word) or _HALF.get(word)
    return None if value is None else value * factor


def canonical(value: Decimal) -> str:
    """A figure's feature: "#2300000", "#2.3", "#0.25" (no exponent, no trailing zeros)."""
    try:
        normal = value.normalize()
    except InvalidOperation:  # pragma: no cover - Decimal from digits always normalizes
        return f"#{value}"
    if normal == normal.to_integral_value():
        return f"#{int(normal)}"
    return "#" + format(normal, "f")
