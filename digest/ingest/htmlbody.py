"""The article body of an HTML page: trafilatura's extraction, and what it gets wrong put right.

Measured on the Zyte article-extraction benchmark (``benchmarks/extraction.py``,
figures in docs/performance.md, "Extraction"), which decided the settings:

* Balanced mode, not ``favor_precision``. Precision mode together with links lost
  the text around links on some pages (a CNN story kept "CNBC reportedthat" and
  dropped the sentence before it) and found nothing at all on others. Balanced mode
  also lets trafilatura retry in recall mode by itself when its first result covers
  little of the page.
* Links and bold/italic kept: the stored body is HTML restricted to a few tags
  (:mod:`digest.ingest.blocks`). Comments, tables and images are not article text
  for a digest.
* A second, recall-mode pass only when the first one finds nothing, so a normal page
  is extracted once.
* Spaces restored after inline elements: on some layouts trafilatura trims the text
  that follows a link or a bold run, which glues words together ("sales tax
  refund</a>in eligible states"). See :func:`respace_inline`.

Our own cleaning (:mod:`digest.ingest.clean`) runs on the result afterwards.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

_OPTIONS: dict[str, Any] = {
    "output_format": "html",
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "include_formatting": True,
    "include_links": True,
}

# Inline elements trafilatura keeps in its HTML output (links and formatting).
_INLINE = ("a", "b", "strong", "i", "em")
# Elements that continue the line of text they are in (anything else starts a new block).
_FLOW = frozenset(
    {"a", "abbr", "b", "bdi", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins"}
    | {"kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u"}
)
# A closing inline tag directly followed by a letter or digit: a possibly glued word.
_GLUED = re.compile(r"</(?:a|b|strong|i|em)>[^\W_]")
_FIRST_WORD = re.compile(r"[^\W_]+")


def extract_body(tree: Any, url: str | None) -> str | None:
    """The article body of a parsed page (``trafilatura.load_html``) as HTML, or None.

    ``url`` resolves relative links. The tree is not changed. None means that neither
    the balanced nor the recall-mode extraction found any article text.
    """
    body = trafilatura.extract(tree, url=url, **_OPTIONS)
    if not body:
        body = trafilatura.extract(tree, url=url, favor_recall=True, **_OPTIONS)
    if not body:
        return None
    return respace_inline(body, tree)


def respace_inline(body: str, page: Any) -> str:
    """``body`` with a space put back after inline elements whose following space was lost.

    A link or bold run directly followed by a word ("refund</a>in") gets a space
    before that word unless the page itself has that element's text glued to what
    follows it (a link on "MacBook" in "MacBooks"). A single letter after the element
    is taken for a suffix and left alone, and so are scripts written without spaces
    between words (Chinese, Japanese, Thai). ``page`` is the parsed source page.
    """
    if not _GLUED.search(body):
        return body  # the common case: nothing to parse
    try:
        root = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return body
    candidates = []
    for element in root.iter(*_INLINE):
        tail = element.tail or ""
        text = element.text_content()
        if not tail or not text or text[-1].isspace():
            continue
        word = _FIRST_WORD.match(tail)
        if word is None or len(word.group()) < 2:
            continue
        if not (_uses_spaces(text[-1]) and _uses_spaces(tail[0])):
            continue
        candidates.append(element)
    if not candidates:
        return body
    glued = _glued_in_page(page, {_key(element.text_content()) for element in candidates})
    changed = False
    for element in candidates:
        if _key(element.text_content()) not in glued:
            element.tail = " " + (element.tail or "")
            changed = True
    if not changed:
        return body
    return str(lxml.html.tostring(root, encoding="unicode"))


def _key(text: str) -> str:
    return " ".join(text.split())


def _uses_spaces(char: str) -> bool:
    """Whether ``char`` belongs to a script that separates words with spaces.

    Latin, Greek, Cyrillic, Hebrew, Arabic and the Indic scripts do; Thai, Lao,
    Khmer, Myanmar and the CJK scripts do not. Hangul does, but is left out: a
    missed space there costs less than a wrong one.
    """
    code = ord(char)
    return code < 0x0E00 or 0x1E00 <= code < 0x2000


def _glued_in_page(page: Any, texts: set[str]) -> set[str]:
    """Those of ``texts`` that some inline element of the page has glued to a following word."""
    glued: set[str] = set()
    if page is None:
        return glued
    for element in page.iter(*_INLINE):
        text = _key(element.text_content())
        if text in texts and text not in glued:
            following = _following_char(element)
            if following and not following.isspace() and _FIRST_WORD.match(following):
                glued.add(text)
    return glued


def _following_char(element: Any) -> str:
    """The first character after ``element`` in its paragraph; "\n" at a block boundary."""
    node = element
    while True:
        if node.tail:
            return str(node.tail[0])
        sibling = node.getnext()
        while sibling is not None:
            if isinstance(sibling.tag, str):  # comments and processing instructions have no text
                if sibling.tag not in _FLOW:
                    return "\n"
                text = sibling.text_content()
                if text:
                    return str(text[0])
            if sibling.tail:
                return str(sibling.tail[0])
            sibling = sibling.getnext()
        node = node.getparent()
        if node is None or node.tag not in _FLOW:
            return "\n"
