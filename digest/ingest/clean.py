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
    render_blocks,
    sanitize_html,
    split_blocks,
)
from digest.ingest.boilerplate import remove_boilerplate
from digest.ingest.edges import (
    dateline_length,
    strip_dateline,
    strip_trailing_junk,
    trailing_junk_length,
    without_dateline,
    without_trailing_junk,
)
from digest.ingest.fallbacks import derive_title, resolve_date, resolve_link
from digest.ingest.markup import drop_invisible, normalize_space
from digest.ingest.records import NO_TEXT, ArticleRecord, Origin
from digest.ingest.titles import clean_title
from digest.ingest.urls import strip_tracking
from digest.store.articles import ArticleData

__all__ = [
    "TEASER_MAX",
    "clean_record",
    "clean_title",
    "content_hash",
    "dateline_length",
    "guess_language",
    "make_teaser",
    "shorten",
    "strip_dateline",
    "strip_trailing_junk",
    "trailing_junk_length",
]

TEASER_MAX = 300
_MARKUP = re.compile(r"<[A-Za-z/!]")

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"“”»«'’)]*\s+(?=[\"„“»«'‘(]*[A-ZÄÖÜ0-9])")


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


def make_teaser(
    given: str | None,
    blocks: list[Block],
    *,
    titles: tuple[str, ...] = (),
    source: str | None = None,
) -> str:
    """The publisher's teaser, cleaned to plain text; else the lead paragraph (whose
    dateline ``blocks`` no longer have). ``source`` helps to see a dateline naming
    the publisher (see :func:`dateline_length`)."""
    if given:
        kept = remove_boilerplate(split_blocks(given), titles=titles)
        text = strip_trailing_junk(normalize_space(" ".join(block.text for block in kept)))
        text = strip_dateline(text, source=source)
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
    # Soft hyphens and zero-width characters go first, entities included, so that
    # every later step (and story matching) sees whole words.
    raw_title = drop_invisible(record.title)
    title = clean_title(raw_title, source=record.source)
    titles = (title, normalize_space(html.unescape(raw_title))) if title else ()
    body = drop_invisible(record.body)
    source = _plain(record.source)
    blocks = remove_boilerplate(split_blocks(body, base_url=link.url), titles=titles)
    blocks = without_trailing_junk(without_dateline(blocks, source=source))
    given = drop_invisible(record.teaser) if record.teaser else None
    teaser = make_teaser(given, blocks, titles=titles, source=source)
    body_text = blocks_text(blocks)
    if not body_text and not teaser:
        text = normalize_space(html_to_text(f"{body}\n{given or ''}"))
        if text:  # there was text, and all of it was boilerplate
            raise IngestError(
                "body: no article text left after removing markup and boilerplate "
                f"(article {link.url})"
            )
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
        source=source,
        language=language,
        topics=list(record.topics),
        image_url=strip_tracking(record.image_url) if record.image_url else None,
        image_alt=_plain(record.image_alt),
        priority=record.priority,
        views=record.views,
        published_at_estimate=estimate.value if estimate else None,
    )
