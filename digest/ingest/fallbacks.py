"""What a record gets where it lacks a link, a date or a title of its own.

Real sources often leave one of them out: a feed entry with only a guid, a page with
no canonical link read from disk, an export without dates. Refusing such a record
loses an article the user asked for; these rules keep it and say so.

* Link: the record's own URL; else the one its reader found by fallback (an entry
  id that is an http(s) URL, ``--base-url`` joined with the file name; see
  :class:`Origin.url_fallback`); else the site's home page (``Origin.site_url``),
  with an identity of its own so two such entries never become one article. Without
  any of these the record is refused with a message saying to give ``--base-url``.
* Date: the record's own date; else the one its reader estimated (page text, feed
  date, HTTP header; see :class:`DateEstimate`); else the ingest time. An estimate is
  never later than the ingest time, and the store never moves an article's date
  forward on account of an estimate (see :func:`digest.store.articles.upsert_article`).
* Title: the first sentence of the teaser or body, cut at a word boundary.

Pure functions; the ingest time is passed in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import quote, urljoin

from digest.errors import IngestError
from digest.ingest.blocks import normalize_space
from digest.ingest.records import ArticleRecord, DateEstimate, Origin, UrlFallback
from digest.ingest.urls import canonical_url, is_http_url, strip_tracking

TITLE_MAX = 100
# Identities of articles without a link of their own: not a URL, so never linked to.
SYNTHETIC_PREFIX = "urn:digest:"
# A sentence end: a stop, then a space and a capital letter or digit ("3.5 Prozent"
# does not end one).
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"“”»«'’)]*\s+(?=[\"„“»«'‘(]*[A-ZÄÖÜ0-9])")


@dataclass(frozen=True)
class Link:
    """Where the email links to, what identifies the article, and how it was found."""

    url: str
    canonical_url: str
    fallback: UrlFallback | None


def synthetic_identity(site_url: str, seed: str) -> str:
    """A stable identity for an article known only by its site and ``seed`` (id or text)."""
    digest = hashlib.sha256(f"{canonical_url(site_url)}\n{seed}".encode()).hexdigest()
    return f"{SYNTHETIC_PREFIX}{digest[:32]}"


def resolve_link(record: ArticleRecord, origin: Origin) -> Link:
    """The article's link and identity; raises IngestError when there is neither."""
    if record.url:
        return Link(strip_tracking(record.url), canonical_url(record.url), origin.url_fallback)
    if origin.site_url and is_http_url(origin.site_url):
        # The id or guid is what the source itself uses to tell entries apart; without
        # one, the title and the start of the text (which rarely change together).
        seed = origin.key or f"{normalize_space(record.title)}\n{record.body[:500]}"
        identity = synthetic_identity(origin.site_url, seed)
        return Link(strip_tracking(origin.site_url), identity, "site")
    raise IngestError(
        "no link: the record has no http(s) URL, and its source names no site to link to",
        hint="give the article's URL, or run `digest ingest --base-url URL` with the site "
        "the files come from",
    )


def resolve_date(
    record: ArticleRecord, origin: Origin, *, now: datetime | None, default_tz: tzinfo
) -> tuple[datetime, DateEstimate | None]:
    """The publication date (aware) and, when it is not the record's own, its estimate.

    Raises IngestError when the record has no date and no ``now`` is given.
    """
    published = record.published_at
    estimate = origin.date_estimate if published is not None else DateEstimate.INGEST
    if published is None:
        if now is None:
            raise IngestError("published_at: is missing, and no ingest time was given")
        published = now
    if published.tzinfo is None:
        published = published.replace(tzinfo=default_tz)
    if estimate is not None and now is not None and published > now:
        published = now  # a feed or server clock ahead of ours says nothing about the article
    return published, estimate


def derive_title(text: str) -> str:
    """A headline for a record that has none: its first sentence, at most TITLE_MAX chars
    (cut at a word boundary with "…"); "" for no text."""
    text = normalize_space(text)
    for end in _SENTENCE_END.finditer(text):
        word = text[: end.start()].rsplit(" ", 1)[-1].rstrip(".!?…\"“”»«'’)")
        # "z. B.", "Dr.", "Mrd. Euro": short words with a stop are abbreviations.
        if end.start() >= 20 and (len(word) > 3 or (word.islower() and len(word) == 3)):
            text = text[: end.start()]
            break
    if len(text) <= TITLE_MAX:
        return text.rstrip(" .") if not text.endswith("...") else text
    cut = text[: TITLE_MAX - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–—-") + "…"


def file_url(base_url: str, path: str) -> str | None:
    """``--base-url`` joined with a local file's name: the page's URL on that site.

    The base is taken as a folder ("https://site.example/news" and ".../news/" alike),
    so ``story.html`` becomes ``https://site.example/news/story.html``.
    """
    if not is_http_url(base_url):
        return None
    folder = base_url if base_url.endswith("/") else f"{base_url}/"
    joined = urljoin(folder, quote(Path(path).name))
    return joined if is_http_url(joined) else None
