"""Reading sources: local files, directories and http(s) URLs, and telling their kind.

A source is a path or an http(s) URL. A directory stands for the source files directly
inside it (``*.json``, ``*.jsonl``, ``*.ndjson``, ``*.xml``, ``*.rss``, ``*.atom``,
``*.html``, ``*.htm``; not recursive, hidden files skipped, sorted by name), so a
folder of exports can be ingested in one go.

The kind is decided by, in order: the file extension, the first bytes of the content
(``<rss``/``<feed``/``<rdf``/``<?xml`` is a feed, ``<!doctype html``/``<html`` a page,
``[``/``{`` JSON), and for URLs the Content-Type. Content beats Content-Type because
servers often send feeds as text/html; the extension comes first because it is the
user's explicit choice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from digest import __version__
from digest.errors import IngestError
from digest.ingest.records import FetchedDoc

Kind = Literal["json", "jsonl", "feed", "html"]
Fetch = Callable[[str], FetchedDoc]

USER_AGENT = f"digest/{__version__} (newsletter digest generator; +https://github.com/digest)"
FETCH_TIMEOUT = 20.0
MAX_BYTES = 20 * 1024 * 1024  # a source bigger than this is a mistake, not an article list

_EXTENSIONS: dict[str, Kind] = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".html": "html",
    ".htm": "html",
}
_CONTENT_TYPES: dict[str, Kind] = {
    "application/json": "json",
    "application/feed+json": "json",  # JSON Feed (read as a feed by the JSON reader)
    "text/json": "json",
    "application/x-ndjson": "jsonl",
    "application/ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/rdf+xml": "feed",
    "application/xml": "feed",
    "text/xml": "feed",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)
# "[{", "[]", '{"': JSON; a bare "[" could as well be an INI or TOML section.
_JSON_START = re.compile(rb'^(?:\[\s*[{\]]|\{\s*["}])')
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def expand(source: str) -> list[str]:
    """The sources a command-line argument stands for (a directory expands to its files).

    Raises IngestError for a directory without any source file.
    """
    if is_url(source):
        return [source]
    path = Path(source)
    if not path.is_dir():
        return [source]
    files = sorted(
        str(child)
        for child in path.iterdir()
        if child.is_file()
        and not child.name.startswith(".")
        and child.suffix.lower() in _EXTENSIONS
    )
    if not files:
        raise IngestError(
            "directory has no source files",
            hint=f"put {', '.join(sorted(_EXTENSIONS))} files in it, or name the files directly",
        )
    return files


def read_file(source: str) -> FetchedDoc:
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise IngestError(f"file is {size // (1024 * 1024)} MB, more than the 20 MB limit")
        content = path.read_bytes()
    except FileNotFoundError:
        raise IngestError("file not found", hint="check the path") from None
    except IsADirectoryError:
        raise IngestError("is a directory") from None
    except PermissionError:
        raise IngestError("permission denied: cannot read the file") from None
    except OSError as err:
        raise IngestError(f"cannot read the file: {err.strerror or err}") from err
    return FetchedDoc(content=content, content_type=None, url=path.resolve().as_uri())


def http_fetch(url: str) -> FetchedDoc:
    """GET ``url`` (redirects followed, 20 s timeout, at most 20 MB).

    Raises IngestError for unreachable hosts, timeouts and HTTP error statuses.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    try:
        with (
            httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True, headers=headers) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise IngestError(
                    f"the server answered HTTP {response.status_code} {response.reason_phrase}",
                    hint="check the URL",
                )
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > MAX_BYTES:
                    raise IngestError("response is larger than the 20 MB limit")
                chunks.append(chunk)
            return FetchedDoc(
                content=b"".join(chunks),
                content_type=response.headers.get("content-type"),
                url=str(response.url),
                http_date=http_date(response.headers),
            )
    except httpx.TimeoutException:
        raise IngestError(f"no answer within {FETCH_TIMEOUT:g} seconds") from None
    except httpx.HTTPError as err:
        raise IngestError(
            f"cannot fetch the URL: {err}", hint="check the URL and the network"
        ) from err


def http_date(headers: Mapping[str, str]) -> datetime | None:
    """Last-Modified, else Date, of a response as an aware datetime; None if unreadable."""
    for name in ("last-modified", "date"):
        value = headers.get(name)
        if not value:
            continue
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _extension(source: str) -> str:
    path = urlsplit(source).path if is_url(source) else source
    return Path(path).suffix.lower()


def detect_kind(source: str, doc: FetchedDoc) -> Kind:
    """The parser a source needs; raises IngestError when nothing identifies it."""
    kind = _EXTENSIONS.get(_extension(source))
    if kind is not None:
        return kind
    sniffed = sniff(doc.content)
    if sniffed is not None:
        return sniffed
    media_type = (doc.content_type or "").split(";")[0].strip().lower()
    kind = _CONTENT_TYPES.get(media_type)
    if kind is not None:
        return kind
    raise IngestError(
        "cannot tell what kind of source this is",
        hint="use a .json, .jsonl, .xml/.rss/.atom or .html file, "
        "or a URL that serves JSON, an RSS/Atom feed or an HTML page",
    )


def sniff(content: bytes) -> Kind | None:
    """The kind the first bytes reveal, or None."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return None
    if _JSON_START.match(head):
        return _json_or_jsonl(content)
    if _FEED_ROOT.search(head):
        return "feed"
    if _HTML_ROOT.search(head):
        return "html"
    if head.startswith(b"<?xml"):
        return "feed"
    return None


def _json_or_jsonl(content: bytes) -> Kind:
    try:
        json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        lines = [line.strip() for line in content.splitlines() if line.strip()]
        # Several lines that each open an object: JSON Lines (bad lines are reported
        # one by one there). Anything else is broken JSON, reported by the JSON parser.
        if len(lines) > 1 and all(line.startswith(b"{") for line in lines[:5]):
            return "jsonl"
    return "json"
