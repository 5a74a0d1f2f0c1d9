"""Single article pages: main text and metadata extracted with trafilatura (offline).

trafilatura finds the article body in the page and drops navigation, sidebars and
footers; the result still goes through the normal cleaning, which removes what
trafilatura kept by mistake (a newsletter box inside the article, a share line).

The article URL is the page's ``<link rel="canonical">`` if it has one, else its
``og:url``, else the URL it was fetched from: the same article reached through a
tracking link or a mirror must map to the same stored row. A page without a
publication date is reported, not stored, because an undated article cannot be ranked.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

import trafilatura
from lxml import etree

from digest.errors import IngestError
from digest.ingest.htmlbody import extract_body
from digest.ingest.records import FetchedDoc, Parsed, language_or_none
from digest.ingest.urls import absolute_http_url, is_http_url

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def parse_html(
    doc: FetchedDoc, *, default_tz: tzinfo | None = None, now: datetime | None = None
) -> Parsed:
    """One article from an HTML page (record number 1), or a problem saying what is missing.

    ``now`` bounds plausible publication dates (a page may carry unrelated future
    dates, e.g. of an event); without it the real clock is used.
    """
    tree = trafilatura.load_html(doc.content)
    if tree is None:
        raise IngestError("not an HTML page that can be parsed")
    page_url = doc.url if is_http_url(doc.url) else None
    own = _page_links(tree, page_url)
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
    if url is None:
        parsed.problems.append(
            (
                None,
                'the page has no http(s) URL: it has no <link rel="canonical"> or og:url, '
                "and was not fetched from the web",
            )
        )
    if not meta.date:
        parsed.problems.append(
            (
                None,
                "no publication date found on the page (article:published_time, "
                "JSON-LD datePublished, <time datetime>); an undated article cannot be ranked",
            )
        )
    if parsed.problems or url is None:
        return parsed
    # Relative links resolve against the article's own URL, not a mirror it came from.
    body = extract_body(tree, url)
    if not body:
        parsed.problems.append((None, "no article text found on the page"))
        return parsed
    parsed.add(
        1,
        {
            "url": url,
            "title": meta.title or "",
            "published_at": meta.date,
            "body": body,
            "teaser": meta.description or None,
            "author": meta.author or None,
            "source": meta.sitename or None,
            "topics": [*(meta.categories or []), *(meta.tags or [])],
            "image_url": absolute_http_url(meta.image, url),
            "image_alt": own["image_alt"],
            "language": own["language"],
        },
        default_tz=default_tz,
    )
    return parsed


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
