"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/): items to articles.

A JSON Feed is a feed like RSS, written in JSON, so it is read with the same rules as
:mod:`digest.ingest.feed`: the item's ``url``, else ``external_url``, else its ``id``
when that is an http(s) URL, else the feed's ``home_page_url`` (with an identity made
from the id); ``date_published``, else ``date_modified``, else the HTTP Last-Modified
of the response, else the ingest time (both estimates). Like feedparser with RSS, a
date that is not RFC 3339 is ignored rather than costing the item. ``content_html`` is
preferred over ``content_text``; ``summary`` is the teaser; ``tags`` are the topics;
``authors`` (1.1) or ``author`` (1.0) the author; the feed's ``title`` the source.
Items are numbered from 1; an item without any text, or that is not an object, is a
problem naming it.
"""

from __future__ import annotations

import html
from datetime import datetime, tzinfo
from typing import Any

from digest.errors import IngestError
from digest.ingest.records import DateEstimate, Origin, Parsed, UrlFallback, language_or_none
from digest.ingest.urls import absolute_http_url, is_http_url

VERSION_PREFIX = "https://jsonfeed.org/version/"


def is_json_feed(document: Any) -> bool:
    """True for a JSON object whose ``version`` names a JSON Feed version."""
    version = document.get("version") if isinstance(document, dict) else None
    # Feeds in the wild also write http:// (the 1.0 spec's examples once did).
    return isinstance(version, str) and version.strip().lower().replace(
        "http://", "https://", 1
    ).startswith(VERSION_PREFIX)


def parse_json_feed(
    document: dict[str, Any],
    *,
    default_tz: tzinfo | None = None,
    base_url: str | None = None,
    http_date: datetime | None = None,
) -> Parsed:
    """Articles from a decoded JSON Feed document; raises IngestError without ``items``."""
    items = document.get("items")
    if not isinstance(items, list):
        raise IngestError(
            'JSON Feed without an "items" list',
            hint="a JSON Feed needs version, title and items (https://www.jsonfeed.org)",
        )
    feed_url = _text(document.get("feed_url"))
    base = next(
        (u for u in (base_url, feed_url, _text(document.get("home_page_url"))) if _http(u)), None
    )
    home = absolute_http_url(_text(document.get("home_page_url")), base) or (
        base_url if _http(base_url) else None
    )
    source = _plain(document.get("title"))
    language = language_or_none(document.get("language"))
    feed_author = _authors(document)
    parsed = Parsed()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            parsed.problems.append((number, f"item is not an object, got {_kind(item)}"))
            continue
        item_id = _text(item.get("id"))
        link = absolute_http_url(_text(item.get("url")), base) or absolute_http_url(
            _text(item.get("external_url")), base
        )
        fallback: UrlFallback | None = None
        if link is None and item_id and is_http_url(item_id):
            link, fallback = item_id, "id"
        title = _text(item.get("title"))
        name = f"item {link or item_id}" if link or item_id else (title and f"item {title!r}")
        if link is None and home is None:
            parsed.problems.append(
                (
                    number,
                    f"{name or 'item'}: no link: neither the item nor the feed "
                    "(home_page_url) has an http(s) URL",
                )
            )
            continue
        published, estimate = _date(item.get("date_published")), None
        if published is None:
            published = _date(item.get("date_modified"))
        if published is None and http_date is not None:
            published, estimate = http_date, DateEstimate.HTTP
        body = _text(item.get("content_html")) or _text_as_html(item.get("content_text"))
        data = {
            "url": link,
            "title": title or "",
            "published_at": published,
            "body": body or "",
            "teaser": _text(item.get("summary")),
            "author": _authors(item) or feed_author,
            "topics": [tag for tag in item.get("tags") or [] if isinstance(tag, str)],
            "image_url": absolute_http_url(_text(item.get("image")), link or base)
            or absolute_http_url(_text(item.get("banner_image")), link or base),
            "source": source,
            "language": language_or_none(item.get("language")) or language,
        }
        origin = Origin(
            site_url=None if link else home,
            key=item_id,
            url_fallback=fallback,
            date_estimate=estimate,
        )
        parsed.add(number, data, default_tz=default_tz, origin=origin, name=name)
    return parsed


def _http(value: str | None) -> bool:
    return bool(value) and is_http_url(str(value))


def _text(value: Any) -> str | None:
    # JSON Feed says strings; feeds in the wild write numbers for ids too.
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def _plain(value: Any) -> str | None:
    text = _text(value)
    return html.unescape(text) if text else None


def _text_as_html(value: Any) -> str | None:
    """content_text as HTML paragraphs, so a "<" in it stays text (blank lines split)."""
    text = _text(value)
    if not text:
        return None
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _date(value: Any) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _authors(holder: dict[str, Any]) -> str | None:
    people = holder.get("authors")
    if not isinstance(people, list):
        single = holder.get("author")
        people = [single] if single is not None else []
    names = [_text(p.get("name")) if isinstance(p, dict) else _text(p) for p in people]
    return ", ".join(n for n in names if n) or None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number")
