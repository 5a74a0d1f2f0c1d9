"""JSON sources: an array of articles, ``{"articles": [...]}``, or JSON Lines.

Records are numbered from 1 in the order of the array; in JSON Lines the number is
the line number, so a problem report points at the line to fix. A bad record never
stops the rest of the file.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any

from digest.errors import IngestError
from digest.ingest.records import Parsed


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise IngestError(
            f"not UTF-8 text (byte {err.start} cannot be decoded)",
            hint="save the file as UTF-8",
        ) from None


def parse_json(content: bytes, *, default_tz: tzinfo | None = None) -> Parsed:
    """Articles from a JSON document; raises IngestError if it is not one at all."""
    text = _decode(content)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        if err.msg == "Extra data" and text.lstrip().startswith("{"):
            # One object per line in a file named .json: read it as JSON Lines.
            return parse_jsonl(content, default_tz=default_tz)
        raise IngestError(
            f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from None
    items = _article_list(document)
    parsed = Parsed()
    for number, item in enumerate(items, start=1):
        parsed.add(number, item, default_tz=default_tz)
    return parsed


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


def parse_jsonl(content: bytes, *, default_tz: tzinfo | None = None) -> Parsed:
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
        parsed.add(number, item, default_tz=default_tz)
    return parsed
