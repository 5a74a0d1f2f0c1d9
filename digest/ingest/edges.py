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


def dateline_length(text: str) -> int:
    """Length of the dateline at the start of ``text``, 0 if there is none."""
    match = _DATELINE_AGENCY.match(text)
    if match is None:
        match = _DATELINE_CAPS.match(text)
        if match and sum(char.isupper() for char in match["place"]) < 5:
            match = None
    # Something must follow; a paragraph that is only "BERLIN (dpa) –" is no lead.
    if match and len(text) - match.end() >= 20:
        return match.end()
    return 0


def strip_dateline(text: str) -> str:
    return text[dateline_length(text) :]


def without_dateline(blocks: list[Block]) -> list[Block]:
    for index, block in enumerate(blocks):
        if block.tag != "p":
            continue
        length = dateline_length(block.text)
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
