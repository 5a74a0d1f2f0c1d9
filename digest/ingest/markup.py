"""Characters and markup in source text: is it HTML, which characters must go.

Pure functions, no I/O. Used by block splitting and by every field that is cleaned
to plain text (titles, teasers, authors).
"""

from __future__ import annotations

import html
import html.entities
import re

# Element names that make a body HTML when they appear as a tag. Any element of
# HTML counts: a body whose only markup is <sup>, <font> or <td> is still markup,
# and shown as text it would reach the email as literal tags. Text such as
# "a < b", "<3" or "<Name>" names no element and stays text.
_HTML_ELEMENT_NAMES = """
    a abbr address article aside audio b bdi bdo big blockquote body br button caption
    center cite code col colgroup dd del details dfn div dl dt em figcaption figure font
    footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img input ins kbd label
    legend li main map mark nav noscript object ol p picture pre q s samp script section
    select small source span strike strong style sub summary sup table tbody td template
    tfoot th thead time tr tt u ul var video wbr
"""
_HTML_ELEMENTS = frozenset(_HTML_ELEMENT_NAMES.split())
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?=[\s/>])[^<>]*>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# &amp; &#8217; &#x2019;: a named entity must be one HTML knows ("AT&T;" is text).
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|([A-Za-z][A-Za-z0-9]{1,31}));")
# Characters that are invisible and break words for search and story matching:
# soft hyphen, zero-width space/non-joiner/joiner, word joiner, byte order mark.
# Removed, not turned into spaces: "Ver\u00adteilung" is one word. (NBSP stays a space.)
# A joiner between two emoji is part of the emoji (U+1F481 U+200D U+2640) and stays.
_INVISIBLE = re.compile(
    "[\u00ad\u200b\u2060\ufeff]|(?<=\\w)[\u200c\u200d]|[\u200c\u200d](?=\\w)|"
    r"&(?:shy|ZeroWidthSpace|zwnj|zwj|NoBreak|#0*173|#x0*ad|#0*820[345]|#x0*200[bcd]|"
    r"#0*8288|#x0*2060|#0*65279|#x0*feff);",
    re.IGNORECASE,
)
_SPACE = re.compile(r"[\s\u00a0]+")
# For text that lxml cannot parse (see strip_tags): a script's code or a style sheet
# must not become words, an unclosed one runs to the end (as a browser reads it).
_CODE_ELEMENT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_NOT_TEXT = re.compile(r"<!--.*?(?:-->|$)|<![^>]*>|<\?[^>]*>|<[^>]+>", re.S)


def drop_invisible(text: str) -> str:
    """``text`` without soft hyphens, zero-width characters and their entities."""
    return _INVISIBLE.sub("", text)


def normalize_space(text: str) -> str:
    """Whitespace runs (NBSP included) as one space; invisible characters removed."""
    return _SPACE.sub(" ", drop_invisible(text)).strip()


def strip_tags(fragment: str) -> str:
    """Plain text of markup by regular expressions: the fallback for what lxml refuses.

    Tags, comments and declarations become spaces, ``<script>`` and ``<style>`` go
    with their content, entities are decoded. Coarser than a parser (spacing is not
    kept the same), so used only where lxml cannot be.
    """
    text = _CODE_ELEMENT.sub(" ", fragment)
    return html.unescape(_NOT_TEXT.sub(" ", text))


def looks_like_html(body: str) -> bool:
    """Whether ``body`` contains a tag of an HTML element or an HTML comment."""
    if _COMMENT.search(body):
        return True
    return any(match[2].lower() in _HTML_ELEMENTS for match in _TAG.finditer(body))


def has_entities(text: str) -> bool:
    """Whether ``text`` contains an HTML character reference such as ``&amp;``."""
    for match in _ENTITY.finditer(text):
        name = match[1]
        if name is None or f"{name};" in html.entities.html5:
            return True
    return False
