"""JSON sources: an array of articles, ``{"articles": [...]}``, JSON Lines, or JSON Feed.

Records are numbered from 1 in the order of the array; in JSON Lines the number is
the line number, so a problem report points at the line to fix. A bad record never
stops the rest of the file. A document whose ``version`` is a jsonfeed.org version URL
is a JSON Feed and is read by :mod:`digest.ingest.jsonfeed`, whatever the file is named.

``--base-url`` resolves a relative ``url``, and is the link of a record without one
(which then gets an identity of its own, see :mod:`digest.ingest.fallbacks`); without
it such a record is refused, naming the field.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from digest.errors import IngestError
from digest.ingest.jsonfeed import is_json_feed, parse_json_feed
from digest.ingest.records import Origin, Parsed
from digest.ingest.urls import absolute_http_url, is_http_url


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise IngestError(
            f"not UTF-8 text (byte {err.start} cannot be decoded)",
            hint="save the file as UTF-8",
        ) from None


def parse_json(
    content: bytes,
    *,
    default_tz: tzinfo | None = None,
    base_url: str | None = None,
    http_date: datetime | None = None,
) -> Parsed:
    """Articles from a JSON document; raises IngestError if it is not one at all.

    ``http_date`` (the response's Last-Modified) dates JSON Feed items that have none.
    """
    text = _decode(content)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        if err.msg == "Extra data" and text.lstrip().startswith("{"):
            # One object per line in a file named .json: read it as JSON Lines.
            return parse_jsonl(content, default_tz=default_tz, base_url=base_url)
        raise IngestError(
            f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from None
    if is_json_feed(document):
        return parse_json_feed(
            document, default_tz=default_tz, base_url=base_url, http_date=http_date
        )
    items = _article_list(document)
    parsed = Parsed()
    for number, item in enumerate(items, start=1):
        _add(parsed, number, item, default_tz=default_tz, base_url=base_url)
    return parsed


def _add(
    parsed: Parsed, number: int, item: Any, *, default_tz: tzinfo | None, base_url: str | None
) -> None:
    site = base_url if base_url and is_http_url(base_url) else None
    if site and isinstance(item, dict) and isinstance(item.get("url"), str):
        # A relative link ("/news/a") is on the site the export comes from.
        item = {**item, "url": absolute_http_url(item["url"], site) or item["url"]}
    parsed.add(number, item, default_tz=default_tz, origin=Origin(site_url=site))


def _article_list(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        articles = document.get("articles")
        if isinstance(articles, list):
            return articles
        if "url" in document and "title" in document:
            return [document]  # a file holding a single article
    raise IngestError(
        'expected a list of articles or an object with an "articles" list',
        hint='write [{"url": ..., "title": ..., "published_at": ..., "body": ...}, ...]',
    )


def parse_jsonl(
    content: bytes, *, default_tz: tzinfo | None = None, base_url: str | None = None
) -> Parsed:
    """Articles from JSON Lines: one object per line, blank lines skipped."""
    parsed = Parsed()
    for number, line in enumerate(_decode(content).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            parsed.problems.append((number, f"not valid JSON: {err.msg} (column {err.colno})"))
            continue
        _add(parsed, number, item, default_tz=default_tz, base_url=base_url)
    return parsed
