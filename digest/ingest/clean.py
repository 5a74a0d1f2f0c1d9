"""From an ArticleRecord as a source delivered it to the ArticleData we store.

Everything a subscriber will read passes through here: the title loses appended junk,
the body loses the dateline and the site's boilerplate (see
:mod:`digest.ingest.boilerplate`), HTML is sanitized to the few tags an email may
carry, and the teaser is plain text of bounded length. Pure functions, no I/O, so the
same record always gives the same article and the same ``content_hash``.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, tzinfo

from digest.errors import IngestError
from digest.ingest.blocks import (
    Block,
    blocks_text,
    html_to_text,
    normalize_space,
    render_blocks,
    sanitize_html,
    split_blocks,
    strip_leading_text,
)
from digest.ingest.boilerplate import remove_boilerplate
from digest.ingest.fallbacks import derive_title, resolve_date, resolve_link
from digest.ingest.records import NO_TEXT, ArticleRecord, Origin
from digest.ingest.urls import strip_tracking
from digest.store.articles import ArticleData

TEASER_MAX = 300

# ------------------------------------------------------------------------- titles

_TITLE_TAGS = (
    r"original|raw|sponsored|anzeige|werbung|ad|advertisement|update(?:[ :][^)\]]{0,30})?|"
    r"aktualisiert(?:[ :][^)\]]{0,30})?|updated(?:[ :][^)\]]{0,30})?|video|videos|podcast|"
    r"audio|live|liveblog|liveticker|ticker|plus|premium|paywall|exklusiv|exclusive|"
    r"bildergalerie|fotostrecke|gallery|photos|\+"
)
# "(original)", "[Update]", "(Sponsored)" at the end or the start of a title.
_TRAILING_TAG = re.compile(rf"\s*[(\[]\s*(?:{_TITLE_TAGS})\s*[)\]]\s*$", re.IGNORECASE)
_LEADING_TAG = re.compile(rf"^\s*[(\[]\s*(?:{_TITLE_TAGS})\s*[)\]]\s*[:–—-]?\s*", re.IGNORECASE)
# " - Video", " | Liveblog": a media-type word after a separator.
_TRAILING_MEDIA = re.compile(
    r"\s+[-–—|:]\s*(?:video|videos|podcast|audio|live|liveblog|liveticker|ticker|"
    r"bildergalerie|fotostrecke|gallery|photos)\s*$",
    re.IGNORECASE,
)
_PAYWALL_MARK = re.compile(r"\s+\+$|\s*[(\[]\+[)\]]$")
_SITE_SUFFIX = re.compile(r"^(?P<head>.+?)\s+(?P<sep>[|–—-]|::|·)\s+(?P<site>[^|–—]{1,80})$")
_LEFTOVER = re.compile(r"[\s|:–—-]+$")
_MARKUP = re.compile(r"<[A-Za-z/!]")


def _site_key(name: str) -> str:
    key = name.casefold().strip()
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", key)
    key = re.sub(r"\.(?:de|com|net|org|at|ch|eu|io|co\.uk|example)\b.*$", "", key)
    return re.sub(r"[\W_®™]+", "", key)


def _is_site_name(candidate: str, source: str | None) -> bool:
    if not source:
        return False
    have, want = _site_key(candidate), _site_key(source)
    if not have or not want:
        return False
    # "IT-Kurier" vs "IT-Kurier – Magazin für KI": one names the other.
    # Both at least four characters, so "– KI" never counts as the site "KI-Magazin".
    long_enough = min(len(have), len(want)) >= 4
    return have == want or (long_enough and (have.startswith(want) or want.startswith(have)))


def clean_title(title: str, *, source: str | None = None) -> str:
    """The headline without markup, entities and appended junk.

    Strips "(original)", "(raw)", "(Sponsored)", "[Update]", "- Video", a trailing "+"
    paywall marker, and a "| Site" or "– Site" suffix when it names ``source``. A pipe
    suffix of at most four words goes too (a section or site name), but a dash is
    kept unless it names the source: "Apple – ein Rückblick" is a real headline.
    """
    raw = html_to_text(title) if _MARKUP.search(title) else html.unescape(title)
    text = normalize_space(raw)
    while True:
        before = text
        text = _TRAILING_TAG.sub("", text)
        text = _LEADING_TAG.sub("", text)
        text = _TRAILING_MEDIA.sub("", text)
        text = _PAYWALL_MARK.sub("", text)
        match = _SITE_SUFFIX.match(text)
        if match:
            site = match["site"].strip()
            short_pipe = match["sep"] in ("|", "::", "·") and len(site.split()) <= 4
            if _is_site_name(site, source) or short_pipe:
                text = match["head"]
        text = _LEFTOVER.sub("", text).strip()
        if text == before:
            return text


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


def _without_dateline(blocks: list[Block]) -> list[Block]:
    for index, block in enumerate(blocks):
        if block.tag != "p":
            continue
        length = dateline_length(block.text)
        if not length:
            return blocks
        count = sum(1 for char in block.text[:length] if not char.isspace())
        return [*blocks[:index], strip_leading_text(block, count), *blocks[index + 1 :]]
    return blocks


# -------------------------------------------------------------------------- teasers

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"“”»«'’)]*\s+(?=[\"„“»«'‘(]*[A-ZÄÖÜ0-9])")
_TEASER_JUNK = re.compile(
    r"\s*(?:\[(?:…|\.\.\.)\]|\((?:…|\.\.\.)\)|weiterlesen|mehr lesen|continue reading|"
    r"read more|read the full (?:story|article))\s*[»›>→.…]*\s*$",
    re.IGNORECASE,
)


def shorten(text: str, limit: int = TEASER_MAX) -> str:
    """At most ``limit`` characters: whole sentences if they fill at least a good part
    of it, else cut at a word boundary with "…"."""
    text = normalize_space(text)
    if len(text) <= limit:
        return text
    sentences = _SENTENCE_END.split(text)
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if len(kept) >= limit * 0.4:
        return kept
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–—-") + "…"


def lead_paragraph(blocks: list[Block]) -> str:
    for block in blocks:
        if block.tag == "p":
            return block.text
    return blocks[0].text if blocks else ""


def make_teaser(given: str | None, blocks: list[Block], *, titles: tuple[str, ...] = ()) -> str:
    """The publisher's teaser, cleaned to plain text; else the lead paragraph."""
    if given:
        kept = remove_boilerplate(split_blocks(given), titles=titles)
        text = _TEASER_JUNK.sub("", " ".join(block.text for block in kept))
        text = strip_dateline(normalize_space(text))
        if text:
            return shorten(text)
    return shorten(lead_paragraph(blocks))


# ------------------------------------------------------------------------- language

_STOPWORDS = {
    "de": frozenset(
        [
            "der",
            "das",
            "und",
            "ist",
            "nicht",
            "mit",
            "von",
            "den",
            "dem",
            "ein",
            "eine",
            "einen",
            "für",
            "auf",
            "sich",
            "des",
            "im",
            "zu",
            "wird",
            "auch",
            "dass",
            "werden",
            "bei",
            "nach",
            "wie",
            "über",
            "sind",
            "hat",
            "noch",
            "nur",
            "oder",
            "aber",
            "sie",
            "wir",
            "ich",
            "es",
        ]
    ),
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "of",
            "to",
            "that",
            "for",
            "with",
            "on",
            "are",
            "was",
            "it",
            "as",
            "by",
            "this",
            "be",
            "has",
            "from",
            "have",
            "will",
            "at",
            "which",
            "not",
            "or",
            "but",
            "they",
            "we",
            "you",
            "their",
            "its",
            "been",
            "were",
        ]
    ),
}
_WORD = re.compile(r"[^\W\d_]+")


def guess_language(text: str) -> str | None:
    """ "de" or "en" by counting common words; None when the text is too short to tell."""
    counts = dict.fromkeys(_STOPWORDS, 0)
    for word in _WORD.findall(text[:5000].casefold()):
        for language, words in _STOPWORDS.items():
            if word in words:
                counts[language] += 1
    (best, top), (_, runner_up) = sorted(counts.items(), key=lambda item: -item[1])[:2]
    if top >= 4 and top >= 2 * runner_up:
        return best
    return None


# -------------------------------------------------------------------------- records


def content_hash(title: str, teaser: str, body_text: str) -> str:
    return hashlib.sha256("\n\x1f\n".join((title, teaser, body_text)).encode()).hexdigest()


def _plain(value: str | None) -> str | None:
    if value is None:
        return None
    raw = html_to_text(value) if _MARKUP.search(value) else html.unescape(value)
    return normalize_space(raw) or None


def _author(value: str | None) -> str | None:
    text = _plain(value)
    if text is None:
        return None
    return re.sub(r"^(?:von|by)\s+", "", text, flags=re.IGNORECASE) or None


def clean_record(
    record: ArticleRecord,
    *,
    default_tz: tzinfo = UTC,
    now: datetime | None = None,
    origin: Origin | None = None,
) -> ArticleData:
    """The stored form of one record. ``default_tz`` applies to a naive published_at.

    A record without a link, date or title gets one from :mod:`digest.ingest.fallbacks`
    (``origin`` says what its source knows; ``now`` is the ingest time, the last resort
    for a date). Raises IngestError when nothing readable is left (a body and teaser
    that were only boilerplate) or when the record has no link and no site to link to.
    """
    origin = origin or Origin()
    link = resolve_link(record, origin)
    title = clean_title(record.title, source=record.source)
    titles = (title, normalize_space(html.unescape(record.title))) if title else ()
    blocks = remove_boilerplate(split_blocks(record.body, base_url=link.url), titles=titles)
    blocks = _without_dateline(blocks)
    teaser = make_teaser(record.teaser, blocks, titles=titles)
    body_text = blocks_text(blocks)
    if not body_text and not teaser:
        given = normalize_space(html_to_text(f"{record.body}\n{record.teaser or ''}"))
        if given:  # there was text, and all of it was boilerplate
            raise IngestError("body: no article text left after removing markup and boilerplate")
        if not title:  # markup only, e.g. a title that is one <img>
            raise IngestError(f"{NO_TEXT} (after removing markup)")
        # Else a headline without body: kept, it says what happened.
    if not title:
        # No headline, or one that was only junk ("(Sponsored)"): the text says what it is.
        title = derive_title(teaser or body_text)
    published, estimate = resolve_date(record, origin, now=now, default_tz=default_tz)
    language = record.language or guess_language(f"{title}\n{body_text or teaser}")
    return ArticleData(
        canonical_url=link.canonical_url,
        url=link.url,
        title=title,
        teaser=teaser,
        body_html=sanitize_html(render_blocks(blocks)),
        body_text=body_text,
        published_at=published.astimezone(UTC),
        content_hash=content_hash(title, teaser, body_text),
        author=_author(record.author),
        source=_plain(record.source),
        language=language,
        topics=list(record.topics),
        image_url=strip_tracking(record.image_url) if record.image_url else None,
        image_alt=_plain(record.image_alt),
        priority=record.priority,
        views=record.views,
        published_at_estimate=estimate.value if estimate else None,
    )
