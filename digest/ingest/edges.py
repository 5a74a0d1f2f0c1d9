"""What is cut off the edges of a text: the dateline at the start of the lead, and
the byline and "read more" link a feed or CMS appends at the end.

Pure functions, no I/O. Each ``*_length`` function measures, so the same cut can be
made on a block's HTML (:mod:`digest.ingest.trim`) and on plain text.
"""

from __future__ import annotations

import re

from digest.ingest.blocks import Block
from digest.ingest.trim import strip_leading_text, strip_trailing_text

# ------------------------------------------------------------------------ datelines

# "BERLIN (dpa) – ", "BRÜSSEL / MÜNCHEN (XY) – ", "LONDON, March 3 (Reuters) - ",
# "San Francisco, 3. März (dpa) –", "(AP) — ": a place, optionally a date, an agency
# in parentheses, a dash. The place has at most six words and starts upper case.
_DATELINE_AGENCY = re.compile(
    r"^(?:[A-ZÄÖÜ][\w.'’-]*(?:\s*[/,]\s*|\s+)){0,6}?"
    r"(?:\d{1,2}\.?\s*\w+\.?\s*(?:\d{4})?\s*|\w+\.?\s+\d{1,2}(?:,\s*\d{4})?\s*)?"
    r"\(\s*[^()\n]{1,40}\)\s*[–—-]{1,2}\s*"
)
# "BERLIN – ", "NEW YORK, 3. März — ": an upper-case place without agency. It needs at
# least five capital letters so an acronym ("NATO – die ...", "USA – ") is not taken for one.
_DATELINE_CAPS = re.compile(
    r"^(?P<place>[A-ZÄÖÜ]{2,}(?:[ ./-]+[A-ZÄÖÜ]{2,})*)"
    r"(?:,\s*\d{1,2}\.?\s*\w+\.?(?:\s*\d{4})?)?\s+[–—]{1,2}\s+"
)


# "Singapore (Meridian Business)Stock markets ...", "BERLIN (dpa) Die ...": a place and
# an agency without a dash, as CNN-style pages put it in a <cite> before the lead. Without
# the dash, "Halle (Saale) hat ..." or "Apple (AAPL) Chief Executive ..." look alike, so
# more is asked (see _bare_dateline): the lead starts right after the parenthesis with a
# capital or digit, and the parenthesis is glued to it (no page writes that in running
# text) or names a news agency or the article's own source. A place is one to four
# capitalised words, not an article or preposition starting a sentence ("Die EZB (...)").
_NOT_PLACES = (
    r"Der|Die|Das|Den|Dem|Des|Ein|Eine|Einem|Einen|Eines|Im|In|Am|An|Auf|Aus|Bei|Laut|Mit|"
    r"Nach|Seit|Vor|Für|Zum|Zur|The|A|At|On|For|From|With|After|Before|By|Of"
)
_PLACE = rf"(?!(?:{_NOT_PLACES})\b)[A-ZÄÖÜ][\w.'’-]*(?:(?:\s*[/,]\s*|\s+)[A-ZÄÖÜ][\w.'’-]*){{0,3}}"
_DATE = (
    r"(?:,\s*(?:\d{1,2}\.?\s*[A-ZÄÖÜ]\w+\.?(?:\s*\d{4})?|"
    r"[A-ZÄÖÜ]\w+\.?\s+\d{1,2}(?:,\s*\d{4})?))?"
)
_DATELINE_BARE = re.compile(
    rf"^(?:(?P<place>{_PLACE}){_DATE}\s*)?\((?P<agency>[^()\n]{{1,40}})\)(?P<space>\s*)"
    r"(?=[\"„“»]?[A-ZÄÖÜ0-9])"
)
# Agencies named in datelines (their usual short forms; "dpa/lno" and "dpa-AFX" count).
_AGENCY_NAMES = """
    dpa afx afp ap reuters kna epd sid apa sda ats awp dts ddp kap ots bloomberg cnn
    xinhua ansa efe upi kyodo yonhap tass interfax ria pti ians red
"""
_AGENCIES = frozenset(_AGENCY_NAMES.split())


def _comparable(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip().casefold()


def _bare_dateline(text: str, source: str | None) -> int:
    """End of a dateline without dash at the start of ``text`` (0: none)."""
    match = _DATELINE_BARE.match(text)
    if match is None:
        return 0
    agency = _comparable(match["agency"])
    named = bool(_AGENCIES & set(agency.split())) or (
        source is not None and agency != "" and agency == _comparable(source)
    )
    # Glued to the lead is enough after a place; "(dpa) Die ..." alone must name an agency.
    glued = not match["space"] and match["place"] is not None
    return match.end() if glued or named else 0


def dateline_length(text: str, *, source: str | None = None) -> int:
    """Length of the dateline at the start of ``text``, 0 if there is none.

    ``source`` is the article's publisher, a dateline's agency when the site is its
    own ("Singapore (Meridian Business) Stock markets ..." on Meridian Business).
    """
    match = _DATELINE_AGENCY.match(text)
    if match is None:
        match = _DATELINE_CAPS.match(text)
        if match and sum(char.isupper() for char in match["place"]) < 5:
            match = None
    if match is None:
        end = _bare_dateline(text, source)
        return end if end and len(text) - end >= 20 else 0
    # Something must follow; a paragraph that is only "BERLIN (dpa) –" is no lead.
    if match and len(text) - match.end() >= 20:
        return match.end()
    return 0


def strip_dateline(text: str, *, source: str | None = None) -> str:
    return text[dateline_length(text, source=source) :]


def without_dateline(blocks: list[Block], *, source: str | None = None) -> list[Block]:
    for index, block in enumerate(blocks):
        if block.tag != "p":
            continue
        length = dateline_length(block.text, source=source)
        if not length:
            return blocks
        count = sum(1 for char in block.text[:length] if not char.isspace())
        return [*blocks[:index], strip_leading_text(block, count), *blocks[index + 1 :]]
    return blocks


# ---------------------------------------------------------------- bylines, links

# A link to the full article at the end of a teaser or body: "[mehr]", "Weiterlesen »",
# "(more…)", "…mehr". Labels that are also ordinary words ("mehr", "more", "weiter")
# count only in brackets, after an ellipsis or after a sentence's end, so "Weniger ist
# mehr" keeps its last word.
_LABELS = (
    r"weiterlesen|hier weiterlesen|mehr lesen|mehr erfahren|artikel lesen|jetzt lesen|"
    r"zum (?:vollständigen )?artikel|continue reading|keep reading|read more|read on|"
    r"read the full (?:story|article)|full story|learn more"
)
_SHORT_LABELS = r"mehr|more|weiter|next"
_ARROWS = r"[»›>→.…]*"
_LINK_LABEL = re.compile(
    rf"(?:\s*[\[(]\s*(?:{_LABELS}|{_SHORT_LABELS})\s*{_ARROWS}\s*[\])]"
    # "...behind the wheel andRead More": a label glued to the last word.
    rf"|\s*[▶►▸»›>→]*\s*(?:\b|(?-i:(?=[A-ZÄÖÜ])))(?:{_LABELS})\s*{_ARROWS}"
    rf"|(?:(?<=[.!?…])|(?<=\.\.\.)|^)\s*(?:{_SHORT_LABELS})\s*{_ARROWS}"
    rf"|\s+(?:{_SHORT_LABELS})\s*[»›>→]+)\s*$",
    re.IGNORECASE,
)
# A byline after the last sentence: "Von Philipp Eckstein, ARD-Hauptstadtstudio.",
# "By Jane Roe and Tom Ashby". Case-sensitive: one to four capitalised name words
# (and particles such as "von der"), so "Die Studie von Forschern der TU" is a sentence.
_NAME = r"[A-ZÄÖÜ][\w'’-]*\.?"
_PARTICLES = r"(?:(?:von|van|de|der|den|du|da|di|del|zu|ter|ten|le|la|al)\s+){0,2}"
_MORE_NAMES = rf"(?:\s+{_PARTICLES}{_NAME}){{0,3}}"
_AFFILIATION = (
    r"(?:\s*,\s*[A-ZÄÖÜ0-9][\w.&'’/-]*(?:\s+[A-ZÄÖÜ0-9][\w.&'’/-]*){0,3}|\s*\([^()]{1,40}\))"
)
_BYLINE_TAIL = re.compile(
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"“”»«’)\]])|^)\s*"
    r"(?:Von|VON|By|BY|Text:|Autor(?:in)?:|"
    r"Ein (?:Bericht|Kommentar|Beitrag|Gastbeitrag) von|Eine (?:Analyse|Reportage|Kolumne) von)"
    rf"\s+(?P<first>{_NAME}){_MORE_NAMES}(?:\s*(?:,|und|and|&)\s*{_NAME}{_MORE_NAMES}){{0,2}}"
    rf"{_AFFILIATION}?\s*\.?\s*$"
)
# "By Tuesday." is not a byline.
_NOT_NAME_WORDS = """
    montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz april
    mai juni juli august september oktober november dezember monday tuesday wednesday
    thursday friday saturday sunday january february march may june july october december
    heute morgen gestern today tomorrow yesterday now then
"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


# "[…]" where a feed cut the text: junk after a full sentence, a sign of the cut
# after half a one ("Heizjacken sind im Grunde […]").
_CUT_MARK = re.compile(r"\s*[\[(](?:…|\.\.\.)[\])]\s*$")
_SENTENCE_DONE = re.compile(r"[.!?…\"“”»«’)\]]\s*$")


def trailing_junk_length(text: str) -> int:
    """Length of the link labels and byline at the end of ``text`` (0: none)."""
    kept = text
    while True:
        before = kept
        kept = _LINK_LABEL.sub("", kept)
        cut = _CUT_MARK.search(kept)
        if cut and _SENTENCE_DONE.search(kept[: cut.start()]):
            kept = kept[: cut.start()]
        match = _BYLINE_TAIL.search(kept)
        if match and match["first"].rstrip(".").casefold() not in _NOT_NAMES:
            kept = kept[: match.start()]
        kept = kept.rstrip()
        if kept == before:
            return len(text) - len(kept)


def strip_trailing_junk(text: str) -> str:
    """``text`` without a trailing "[mehr]", "Weiterlesen »" or "Von NAME." byline;
    a "[…]" after half a sentence becomes "…"."""
    kept = text[: len(text) - trailing_junk_length(text)]
    cut = _CUT_MARK.search(kept)
    return kept[: cut.start()].rstrip() + "…" if cut else kept


def without_trailing_junk(blocks: list[Block]) -> list[Block]:
    # Feeds whose only content is the teaser end it with the byline and a link label
    # ("... Von Philipp Eckstein.[mehr]"); so do some bodies.
    if not blocks or blocks[-1].tag != "p":
        return blocks
    last = blocks[-1]
    length = trailing_junk_length(last.text)
    if not length:
        return blocks
    count = sum(1 for char in last.text[len(last.text) - length :] if not char.isspace())
    stripped = strip_trailing_text(last, count)
    return [*blocks[:-1], stripped] if stripped.text else blocks[:-1]
