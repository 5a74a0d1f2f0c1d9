"""RSS and Atom feeds, read with feedparser.

Entries are numbered from 1 in feed order. An entry without a link or a date cannot
be stored (an article without a date cannot be ranked), so it becomes a problem and
the others still load. A feed with XML errors (feedparser's "bozo") still yields the
entries it could read; only a document with no feed in it at all is one problem.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, tzinfo
from typing import Any

import feedparser

from digest.errors import IngestError
from digest.ingest.blocks import html_to_text, normalize_space
from digest.ingest.records import FetchedDoc, Parsed, language_or_none
from digest.ingest.urls import absolute_http_url


def parse_feed(doc: FetchedDoc, *, default_tz: tzinfo | None = None) -> Parsed:
    """Articles from an RSS 0.9x/1.0/2.0 or Atom document."""
    headers = {"content-type": doc.content_type or "application/xml"}
    if doc.url.startswith(("http://", "https://")):
        headers["content-location"] = doc.url  # base for relative links in entries
    result = feedparser.parse(doc.content, response_headers=headers, sanitize_html=True)
    if not result.version and not result.entries:
        reason = result.get("bozo_exception")
        detail = f": {reason}" if reason else ""
        raise IngestError(
            f"not an RSS or Atom feed{detail}",
            hint="check that the URL or file is the feed itself, not a web page",
        )
    feed_info = result.get("feed", {})
    source = feed_info.get("title") or None
    language = feed_info.get("language") or None
    base = feed_info.get("link") or (doc.url if doc.url.startswith("http") else None)
    parsed = Parsed()
    for number, entry in enumerate(result.entries, start=1):
        data, problem = _entry_data(entry, source=source, language=language, base=base)
        if problem:
            parsed.problems.append((number, problem))
        else:
            parsed.add(number, data, default_tz=default_tz)
    return parsed


def _entry_data(
    entry: Any, *, source: str | None, language: str | None, base: str | None
) -> tuple[dict[str, Any], str | None]:
    link = _entry_link(entry, base)
    if link is None:
        return {}, "entry has no http(s) link to the article"
    published = _entry_date(entry)
    if published is None:
        return {}, f"entry {link} has no published or updated date"
    summary = entry.get("summary") or None
    body = _entry_body(entry)
    if body is None:
        body, summary = summary or "", None
    elif summary and _same_text(summary, body):
        summary = None  # feeds that repeat the body as summary have no separate teaser
    image_url, image_alt = _entry_image(entry, base)
    return {
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
        "source": source,
        "language": language_or_none(entry.get("language")) or language_or_none(language),
    }, None


def _entry_link(entry: Any, base: str | None) -> str | None:
    candidates = [entry.get("link")]
    candidates += [
        link.get("href")
        for link in entry.get("links", [])
        if link.get("rel", "alternate") == "alternate"
    ]
    # RSS <guid isPermaLink="true"> is a link too when <link> is missing.
    if entry.get("guidislink"):
        candidates.append(entry.get("id"))
    for candidate in candidates:
        url = absolute_http_url(candidate, base)
        if url:
            return url
    return None


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
