"""Article bodies as a list of blocks (paragraphs, headings, lists, quotes).

Cleaning works on blocks because boilerplate comes in blocks: a newsletter plug is
one paragraph, a share bar one line. Plain text is split at blank lines; HTML at its
block elements, with elements that never carry article text (scripts, forms,
navigation, figures) dropped on the way. Every block keeps both its inner HTML (links
and emphasis survive) and its plain text (what the classifier reads).

Pure functions, no I/O. lxml is used for parsing because trafilatura already depends
on it and it copes with any tag soup a CMS produces.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import lxml.html
import nh3
from lxml import etree

from digest.ingest.markup import has_entities, looks_like_html, normalize_space, strip_tags
from digest.ingest.urls import absolute_http_url, strip_tracking

__all__ = [
    "ALLOWED_TAGS",
    "Block",
    "blocks_text",
    "html_to_text",
    "inner_html",
    "normalize_space",
    "parse_fragment",
    "remove_keep_tail",
    "render_blocks",
    "sanitize_html",
    "split_blocks",
    "tag_of",
]

# What subscribers' mail clients and the web preview may see.
ALLOWED_TAGS = frozenset(
    {
        *("p", "a", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "h2", "h3", "h4"),
        *("br", "sup", "sub"),  # "10<sup>6</sup>" must not become "106"
    }
)
_ALLOWED_ATTRIBUTES = {"a": {"href"}}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# Elements whose whole content is never article text.
_DROP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "canvas",
        "video",
        "audio",
        "map",
        "nav",
        "aside",
        "footer",
        "header",  # page or article header: title, byline, date; all stored separately
        "form",
        "button",
        "input",
        "select",
        "textarea",
        "label",
        "figure",  # images and their captions/credits
        "figcaption",
        "img",
        "picture",
        "source",
        "hr",
        # Struck-through text is what the author withdrew ("<del>500</del> 600 Euro").
        "del",
        "s",
        "strike",
    }
)
# Dropped elements that also end the paragraph before them.
_SEPARATORS = frozenset({"hr", "nav", "aside", "footer", "header", "form", "figure"})
_HEADINGS = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4"}
_PARAGRAPHS = frozenset({"p", "pre", "address", "dd", "dt"})
_LISTS = frozenset({"ul", "ol"})
_BLOCK_LEVEL = (
    _DROP
    | _PARAGRAPHS
    | _LISTS
    | set(_HEADINGS)
    | {
        "div",
        "section",
        "article",
        "main",
        "body",
        "blockquote",
        "li",
        "dl",
        "details",
        "summary",
        "center",
        "html",
        # Tables become one paragraph per row (see _add_table); cells met outside
        # a table are containers of their own.
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
    }
)
_DOUBLE_BR = re.compile(r"(?:<br\s*/?>\s*){2,}", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")


@dataclass(frozen=True)
class Block:
    """One block of an article body."""

    tag: str  # p, h2, h3, h4, ul, ol or blockquote
    html: str  # inner HTML, not yet sanitized
    text: str  # plain text, whitespace collapsed; list items one per line

    @property
    def is_heading(self) -> bool:
        return self.tag in ("h2", "h3", "h4")


def split_blocks(body: str, *, base_url: str | None = None) -> list[Block]:
    """The body as blocks; HTML if it contains HTML tags, else plain text paragraphs.

    Relative links are made absolute against ``base_url`` (a link in an email has no
    page to be relative to); links that are not http(s) or mailto lose their href.
    """
    if not body.strip():
        return []
    if looks_like_html(body):
        return _html_blocks(body, base_url)
    if has_entities(body):
        # Text with character references but no tags ("Tom &amp; Jerry"): decoded,
        # but still split at blank lines like any plain text.
        return _text_blocks(html.unescape(body))
    return _text_blocks(body)


def _text_blocks(body: str) -> list[Block]:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    # Paragraphs are separated by blank lines; an export without any blank line uses
    # one line per paragraph instead.
    parts = _BLANK_LINE.split(text) if _BLANK_LINE.search(text) else text.split("\n")
    blocks = []
    for part in parts:
        plain = normalize_space(part)
        if plain:
            blocks.append(Block("p", html.escape(plain, quote=False), plain))
    return blocks


# How lxml refuses a fragment: ParserError for an empty document, ValueError for text
# it cannot take, and an assertion inside fragments_fromstring (IndexError under
# python -O) for a "full page" without <body>, e.g. "<!DOCTYPE html><script>...".
_UNPARSABLE = (etree.ParserError, ValueError, AssertionError, IndexError)


def parse_fragment(fragment: str) -> Any | None:
    """``fragment`` parsed as the content of a <div>; None when lxml refuses it."""
    try:
        return lxml.html.fragment_fromstring(fragment, create_parent="div")
    except _UNPARSABLE:
        return None


def _html_blocks(body: str, base_url: str | None) -> list[Block]:
    root = parse_fragment(body)
    if root is None:
        return _text_blocks(strip_tags(body))
    for comment in root.xpath("//comment() | //processing-instruction()"):
        remove_keep_tail(comment)
    for anchor in list(root.iter("a")):
        target = _link_target(anchor.get("href"), base_url)
        anchor.attrib.clear()
        if target:
            anchor.set("href", target)
        else:
            anchor.drop_tag()  # a link to nowhere (or to javascript:) is just text
    for br in root.iter("br"):
        # So that text_content() keeps a line break where the HTML had one.
        br.tail = "\n" + (br.tail or "")
    blocks: list[Block] = []
    _walk(root, blocks)
    return blocks


def _link_target(href: str | None, base_url: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if href.lower().startswith("mailto:"):
        return href
    target = absolute_http_url(href, base_url)
    # Subscribers follow these links; they should not carry the publisher's campaign tags.
    return strip_tracking(target) if target else None


def tag_of(element: Any) -> str | None:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else None


def _has_block_child(element: Any) -> bool:
    return any(tag_of(child) in _BLOCK_LEVEL for child in element.iterdescendants())


def _walk(container: Any, out: list[Block]) -> None:
    """Collect blocks from a container; loose inline content becomes paragraphs."""
    run: list[str] = [html.escape(container.text or "", quote=False)]
    for child in container:
        tag = tag_of(child)
        if tag is None or tag in _DROP:
            if tag in _SEPARATORS:
                _flush(run, out)  # "Oben<hr>Unten" is two paragraphs
        elif tag in _HEADINGS or tag in _PARAGRAPHS:
            _flush(run, out)
            if _has_block_child(child) and tag in _PARAGRAPHS:
                _walk(child, out)
            else:
                _add(out, _HEADINGS.get(tag, "p"), child)
        elif tag in _LISTS:
            _flush(run, out)
            _add_list(out, tag, child)
        elif tag == "blockquote":
            _flush(run, out)
            _add_quote(out, child)
        elif tag == "table":
            _flush(run, out)
            _add_table(out, child)
        elif tag in _BLOCK_LEVEL or _has_block_child(child):
            _flush(run, out)
            _walk(child, out)
        else:
            run.append(_outer_html(child))
        run.append(html.escape(child.tail or "", quote=False))
    _flush(run, out)


def _flush(run: list[str], out: list[Block]) -> None:
    joined = "".join(run)
    run.clear()
    for piece in _DOUBLE_BR.split(joined):
        _add_fragment(out, "p", piece)


def _add_fragment(out: list[Block], tag: str, fragment: str) -> None:
    fragment = fragment.strip()
    fragment = re.sub(r"^(?:<br\s*/?>\s*)+|(?:\s*<br\s*/?>)+$", "", fragment, flags=re.I)
    if not fragment:
        return
    text = normalize_space(html_to_text(fragment))
    if text:
        out.append(Block(tag, fragment, text))


def _add(out: list[Block], tag: str, element: Any) -> None:
    for dropped in [e for e in element.iterdescendants() if tag_of(e) in _DROP]:
        remove_keep_tail(dropped)
    _add_fragment(out, tag, inner_html(element))


def _add_list(out: list[Block], tag: str, element: Any) -> None:
    items: list[tuple[str, str]] = []
    for item in element.iter("li"):
        if any(tag_of(p) == "li" for p in item.iterancestors() if p is not element):
            continue  # nested lists are flattened into their parent item's text
        fragment = inner_html(item).strip()
        text = normalize_space(html_to_text(fragment))
        if text:
            items.append((fragment, text))
    if items:
        inner = "".join(f"<li>{fragment}</li>" for fragment, _ in items)
        out.append(Block(tag, inner, "\n".join(f"- {text}" for _, text in items)))


def _add_quote(out: list[Block], element: Any) -> None:
    inner: list[Block] = []
    _walk(element, inner)
    if inner:
        fragment = "".join(f"<p>{block.html}</p>" for block in inner)
        out.append(Block("blockquote", fragment, "\n".join(block.text for block in inner)))


def _add_table(out: list[Block], table: Any) -> None:
    """One paragraph per row, cells joined by " | "; a cell holding blocks (a layout
    table) gives its own blocks. An email cannot show a table reliably, but its text
    must not be lost."""
    for dropped in [e for e in table.iterdescendants() if tag_of(e) in _DROP]:
        remove_keep_tail(dropped)
    for caption in table.iterchildren("caption"):
        _walk(caption, out)
    for row in table.iter("tr"):
        if next(row.iterancestors("table")) is not table:
            continue  # a nested table's rows are handled with the cell holding it
        cells = [cell for cell in row if tag_of(cell) in ("td", "th")]
        if any(_has_block_child(cell) for cell in cells):
            for cell in cells:
                _walk(cell, out)
            continue
        fragments = [inner_html(cell).strip() for cell in cells]
        _add_fragment(out, "p", " | ".join(f for f in fragments if html_to_text(f).strip()))


def _outer_html(element: Any) -> str:
    return str(lxml.html.tostring(element, encoding="unicode", with_tail=False))


def inner_html(element: Any) -> str:
    parts = [html.escape(element.text or "", quote=False)]
    parts.extend(
        str(lxml.html.tostring(child, encoding="unicode", with_tail=True))
        for child in element
        if tag_of(child) is not None
    )
    return "".join(parts)


def remove_keep_tail(element: Any) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (tags removed, entities decoded, spacing kept)."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    root = parse_fragment(fragment)
    if root is None:
        return strip_tags(fragment)  # scripts and styles go here too
    for element in root.iterdescendants():
        # Keep words of adjacent blocks and lines apart in the text.
        if tag_of(element) == "br" or tag_of(element) in _BLOCK_LEVEL:
            element.tail = "\n" + (element.tail or "")
    for dropped in [e for e in root.iter() if tag_of(e) in ("script", "style")]:
        remove_keep_tail(dropped)
    return str(root.text_content())


def render_blocks(blocks: list[Block]) -> str:
    return "\n".join(f"<{block.tag}>{block.html}</{block.tag}>" for block in blocks)


def sanitize_html(fragment: str) -> str:
    """Only the tags and attributes an email may carry; links get rel="noopener".

    Scripts and styles go with their content; event handlers, javascript: URLs and
    every other attribute are removed.
    """
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style", "iframe", "noscript", "template", "object"},
        attributes={tag: set(attrs) for tag, attrs in _ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener",
        strip_comments=True,
    )


def blocks_text(blocks: list[Block]) -> str:
    return "\n\n".join(block.text for block in blocks)
