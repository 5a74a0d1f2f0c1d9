"""Single article pages: main text and metadata extracted with trafilatura (offline).

trafilatura finds the article body in the page and drops navigation, sidebars and
footers; the result still goes through the normal cleaning, which removes what
trafilatura kept by mistake (a newsletter box inside the article, a share line).

The article URL is the page's ``<link rel="canonical">`` if it has one, else its
``og:url``, else the URL it was fetched from: the same article reached through a
tracking link or a mirror must map to the same stored row. A page read from a file has
no URL of its own: ``--base-url`` (the site the files come from) resolves its relative
canonical link, and when it has none the page's URL is the base URL joined with the
file name (``https://site.example/news/`` + ``story.html``). A file page with no
canonical link and no ``--base-url`` is reported: an article needs a link.

The date is the one the page's markup or URL states (article:published_time,
JSON-LD, ``<time>``; htmldate without guessing). Without one, htmldate's extensive
search guesses from the text (a bare January 1st is a copyright line, not a date,
and is ignored), then the HTTP Last-Modified of the response is used, then the
ingest time; each is stored as an estimate (see :mod:`digest.ingest.fallbacks`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import unquote, urlsplit

import htmldate
import trafilatura
from lxml import etree

from digest.errors import IngestError
from digest.ingest.fallbacks import file_url
from digest.ingest.htmlbody import extract_body
from digest.ingest.records import (
    DateEstimate,
    FetchedDoc,
    Origin,
    Parsed,
    UrlFallback,
    language_or_none,
)
from digest.ingest.urls import absolute_http_url, is_http_url

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def parse_html(
    doc: FetchedDoc,
    *,
    default_tz: tzinfo | None = None,
    now: datetime | None = None,
    base_url: str | None = None,
) -> Parsed:
    """One article from an HTML page (record number 1), or a problem saying what is missing.

    ``now`` bounds plausible publication dates (a page may carry unrelated future
    dates, e.g. of an event); without it the real clock is used. ``base_url`` is the
    site a page read from a file comes from (see the module docstring).
    """
    tree = trafilatura.load_html(doc.content)
    if tree is None:
        raise IngestError("not an HTML page that can be parsed")
    page_url = doc.url if is_http_url(doc.url) else None
    file_page = None
    if page_url is None and base_url and doc.url.startswith("file:"):
        file_page = file_url(base_url, unquote(urlsplit(doc.url).path))
    own = _page_links(tree, page_url or file_page)
    date_config: dict[str, Any] = {
        "outputformat": _DATE_FORMAT,
        "original_date": True,  # the first publication, not the last edit
        "extensive_search": False,  # only dates the markup or URL state, never guesses
    }
    if now is not None:
        date_config["max_date"] = (now + timedelta(days=2)).strftime("%Y-%m-%d")
    meta = trafilatura.extract_metadata(
        tree, default_url=page_url, date_config=date_config, extensive=True
    )
    parsed = Parsed()
    url = own["canonical"] or own["og_url"] or absolute_http_url(meta.url, page_url) or page_url
    fallback: UrlFallback | None = None
    if url is None and file_page is not None:
        url, fallback = file_page, "base-url"
    if url is None:
        parsed.problems.append(
            (
                None,
                'the page has no http(s) URL: it has no <link rel="canonical"> or og:url, '
                "and was not fetched from the web (run `digest ingest --base-url URL` with "
                "the site the file comes from)",
            )
        )
        return parsed
    published, estimate = _page_date(tree, meta.date, doc, now)
    # Relative links resolve against the article's own URL, not a mirror it came from.
    body = extract_body(tree, url)
    if not body and not meta.description:
        # A page whose only text is its title is a list or a landing page, not an article.
        parsed.problems.append((None, f"no article text found on the page {url}"))
        return parsed
    parsed.add(
        1,
        {
            "url": url,
            "title": meta.title or "",
            "published_at": published,
            "body": body or "",
            "teaser": meta.description or None,
            "author": meta.author or None,
            "source": meta.sitename or None,
            "topics": [*(meta.categories or []), *(meta.tags or [])],
            "image_url": absolute_http_url(meta.image, url),
            "image_alt": own["image_alt"],
            "language": own["language"],
        },
        default_tz=default_tz,
        origin=Origin(url_fallback=fallback, date_estimate=estimate),
    )
    return parsed


def _page_date(
    tree: Any, stated: str | None, doc: FetchedDoc, now: datetime | None
) -> tuple[str | datetime | None, DateEstimate | None]:
    """The page's own date, else an estimate and how it was found (None: use ingest time)."""
    if stated:
        return stated, None
    bounds: dict[str, Any] = {"max_date": now.strftime("%Y-%m-%d")} if now is not None else {}
    guessed = htmldate.find_date(
        tree, extensive_search=True, original_date=True, outputformat=_DATE_FORMAT, **bounds
    )
    # htmldate turns "© 2019" into 2019-01-01: a year is no publication date.
    if guessed and not guessed[4:].startswith("-01-01T00:00:00"):
        return guessed, DateEstimate.PAGE_TEXT
    if doc.http_date is not None:
        return doc.http_date, DateEstimate.HTTP
    return None, None


def _page_links(tree: Any, base: str | None) -> dict[str, str | None]:
    """The few head fields trafilatura does not return, or does not prioritise our way."""

    def first(xpath: str) -> str | None:
        try:
            values = tree.xpath(xpath)
        except etree.XPathError:
            return None
        for value in values:
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    canonical = first(
        "//link[contains(concat(' ', translate(@rel, 'CANONICAL', 'canonical'), ' '), "
        "' canonical ')]/@href"
    )
    og_url = first("//meta[@property='og:url']/@content")
    language = first("/html/@lang") or first("//meta[@property='og:locale']/@content")
    return {
        "canonical": absolute_http_url(canonical, base),
        "og_url": absolute_http_url(og_url, base),
        "image_alt": first(
            "//meta[@property='og:image:alt']/@content | //meta[@name='twitter:image:alt']/@content"
        ),
        "language": language_or_none(language),
    }
