"""RSS and Atom feeds, read with feedparser.

Entries are numbered from 1 in feed order. A feed with XML errors (feedparser's
"bozo") still yields the entries it could read; only a document with no feed in it at
all is one problem.

An entry lacking a link or a date is kept (see :mod:`digest.ingest.fallbacks`): its
link is the entry's ``<link>``, an ``alternate`` link, a permalink guid, else its
guid/id when that is an http(s) URL, else the feed's home page (its ``<link>``, else
``--base-url``, else the root of the host it was fetched from), with an identity made
from that page and the entry's id. Relative links resolve against the URL the feed
was fetched from, else ``--base-url``, else the feed's own ``<link>``. Its date is the
entry's published/updated date, else the feed's own date, else the HTTP Last-Modified
of the response, else the ingest time; every one but the first is stored as estimated.
Only an entry without any text (no title, summary or content) is refused.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal
from urllib.parse import urlsplit

import feedparser

from digest.errors import IngestError
from digest.ingest.blocks import html_to_text, normalize_space
from digest.ingest.records import DateEstimate, FetchedDoc, Origin, Parsed, language_or_none
from digest.ingest.urls import absolute_http_url, is_http_url


def parse_feed(
    doc: FetchedDoc, *, default_tz: tzinfo | None = None, base_url: str | None = None
) -> Parsed:
    """Articles from an RSS 0.9x/1.0/2.0 or Atom document.

    ``base_url`` is the site a local feed file comes from: it resolves relative links
    and is the home page of entries without a link when the feed names none.
    """
    headers = {"content-type": doc.content_type or "application/xml"}
    location = doc.url if is_http_url(doc.url) else base_url
    if location and is_http_url(location):
        headers["content-location"] = location  # base for relative links in entries
    else:
        location = None
    # No feedparser sanitizing: on crafted markup (a <script> closed as "</script\n>")
    # it drops the tags and keeps the script's code as text. Every field goes through
    # our own cleaning instead (lxml drops script and style with their content, nh3
    # keeps only the allowed tags), as for JSON and pages; benchmarks/world_feeds.py
    # checks that against feedparser's own sanitizer tests.
    result = feedparser.parse(doc.content, response_headers=headers, sanitize_html=False)
    if not result.version and not result.entries:
        reason = result.get("bozo_exception")
        detail = f": {reason}" if reason else ""
        raise IngestError(
            f"not an RSS or Atom feed{detail}",
            hint="check that the URL or file is the feed itself, not a web page",
        )
    feed_info = result.get("feed", {})
    home = absolute_http_url(feed_info.get("link"), location)
    context = _FeedContext(
        source=feed_info.get("title") or None,
        language=feed_info.get("language") or None,
        base=location or home,
        site=home or (base_url if base_url and is_http_url(base_url) else None) or _root(doc.url),
        date=_entry_date(feed_info),
        http_date=doc.http_date,
    )
    parsed = Parsed()
    for number, entry in enumerate(result.entries, start=1):
        data, origin, name, problem = _entry_data(entry, context)
        if problem:
            parsed.problems.append((number, problem))
        else:
            parsed.add(number, data, default_tz=default_tz, origin=origin, name=name)
    return parsed


@dataclass(frozen=True)
class _FeedContext:
    """What the feed says for all its entries."""

    source: str | None
    language: str | None
    base: str | None  # resolves relative links
    site: str | None  # where entries without a link point
    date: datetime | None
    http_date: datetime | None


def _entry_data(
    entry: Any, feed: _FeedContext
) -> tuple[dict[str, Any], Origin, str | None, str | None]:
    """The record, its origin, a name for messages, and a problem if it cannot be kept."""
    link, fallback = _entry_link(entry, feed.base)
    guid = str(entry.get("id") or "").strip() or None
    name = _name(link or guid, entry.get("title"))
    if link is None and feed.site is None:
        return (
            {},
            Origin(),
            name,
            f"{name or 'entry'}: no link: neither the entry nor the feed has an http(s) "
            "link (run `digest ingest --base-url URL` with the site the feed is from)",
        )
    published, estimate = _entry_date(entry), None
    fallbacks = ((feed.date, DateEstimate.FEED), (feed.http_date, DateEstimate.HTTP))
    for fallback_date, kind in fallbacks:
        if published is None and fallback_date is not None:
            published, estimate = fallback_date, kind
    summary = entry.get("summary") or None
    body = _entry_body(entry)
    if body is None:
        body, summary = summary or "", None
    elif summary and _same_text(summary, body):
        summary = None  # feeds that repeat the body as summary have no separate teaser
    image_url, image_alt = _entry_image(entry, feed.base)
    origin = Origin(
        site_url=None if link else feed.site,
        key=guid or None,
        url_fallback=fallback,
        date_estimate=estimate,
    )
    return (
        {
            "url": link,
            "title": entry.get("title") or "",
            "published_at": published,
            "body": body,
            # A feed's summary is HTML even without tags: entities such as [&#8230;]
            # must be decoded here, or they reach the email as literal text.
            "teaser": html_to_text(summary) if summary else None,
            "author": entry.get("author") or None,
            "topics": [tag.get("term") for tag in entry.get("tags", []) if tag.get("term")],
            "image_url": image_url,
            "image_alt": image_alt,
            "source": feed.source,
            "language": language_or_none(entry.get("language")) or language_or_none(feed.language),
        },
        origin,
        name,
        None,
    )


def _root(url: str) -> str | None:
    """The home page of the host a feed was fetched from; None for a local file."""
    if not is_http_url(url):
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _name(identifier: str | None, title: Any) -> str | None:
    """How a problem names an entry: its link or id, else its title."""
    if identifier:
        return f"entry {identifier}"
    text = normalize_space(html_to_text(str(title))) if title else ""
    return f"entry {text[:60]!r}" if text else None


def _entry_link(entry: Any, base: str | None) -> tuple[str | None, Literal["id"] | None]:
    """The entry's own link, else its guid/id when that is an http(s) URL ("id"), else None."""
    links = [
        link.get("href")
        for link in entry.get("links", [])
        if link.get("rel", "alternate") == "alternate"
    ]
    # Without a <link>, feedparser copies a permalink guid (or an Atom id) into "link"
    # and sets guidislink: that link is the id, and is counted as a fallback.
    from_guid = bool(entry.get("guidislink")) and not links
    for candidate in [] if from_guid else [entry.get("link"), *links]:
        url = absolute_http_url(candidate, base)
        if url:
            return url, None
    # An Atom <id> or RSS <guid> (even isPermaLink="false") is often the article's URL;
    # only an absolute one is taken: "post-17" joined with the site would be made up.
    guid = entry.get("id")
    if isinstance(guid, str) and is_http_url(guid):
        return guid.strip(), "id"
    return None, None


def _entry_date(entry: Any) -> datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _entry_body(entry: Any) -> str | None:
    contents = entry.get("content") or []
    # Prefer HTML over plain text when a feed offers both.
    for wanted in ("text/html", "application/xhtml+xml", None):
        for content in contents:
            if wanted is None or content.get("type") == wanted:
                value = content.get("value")
                if value and value.strip():
                    return str(value)
    return None


def _same_text(a: str, b: str) -> bool:
    first, second = normalize_space(html_to_text(a)), normalize_space(html_to_text(b))
    return first == second or (len(first) > 40 and second.startswith(first.rstrip("…. ")))


def _entry_image(entry: Any, base: str | None) -> tuple[str | None, str | None]:
    candidates: list[tuple[str | None, str | None]] = []
    for media in entry.get("media_content", []):
        kind = media.get("type") or ""
        if media.get("medium") == "image" or kind.startswith("image/") or not kind:
            candidates.append((media.get("url"), None))
    candidates += [(thumb.get("url"), None) for thumb in entry.get("media_thumbnail", [])]
    for link in entry.get("enclosures", []) + entry.get("links", []):
        if link.get("rel", "enclosure") == "enclosure" and str(link.get("type", "")).startswith(
            "image/"
        ):
            candidates.append((link.get("href"), None))
    if entry.get("image"):
        candidates.append((entry["image"].get("href"), entry["image"].get("title")))
    for href, alt in candidates:
        url = absolute_http_url(href, base)
        if url:
            return url, alt or entry.get("media_description") or None
    return None, None
