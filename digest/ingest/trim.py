"""Cutting characters off the start or end of a block, through its inline markup.

Used for a dateline at the start of the lead ("<strong>BERLIN (dpa)</strong> – ...")
and a byline or "[mehr]" link at the end of the last paragraph. Counts are of
non-space characters of the block's text, which are the same in its HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from digest.ingest.blocks import (
    Block,
    html_to_text,
    inner_html,
    parse_fragment,
    remove_keep_tail,
    tag_of,
)
from digest.ingest.markup import normalize_space


def strip_leading_text(block: Block, count: int) -> Block:
    """The block without the first ``count`` non-space characters of its text.

    Used to cut a dateline off the lead; works through inline markup such as
    ``<strong>BERLIN (dpa)</strong> – Der ...`` and drops elements left empty.
    """
    root = parse_fragment(block.html)
    if root is None:
        return block
    remaining = count
    for node, attr in _text_slots(root):
        if remaining <= 0:
            break
        value = getattr(node, attr) or ""
        cut = 0
        while cut < len(value) and remaining > 0:
            if not value[cut].isspace():
                remaining -= 1
            cut += 1
        setattr(node, attr, value[cut:])
    # Spaces and the dash separator left at the start are part of the dateline.
    for node, attr in _text_slots(root):
        value = getattr(node, attr) or ""
        stripped = value.lstrip(" \t\n\u00a0")
        setattr(node, attr, stripped)
        if stripped:
            break
    for element in list(root.iterdescendants()):
        if tag_of(element) not in (None, "br") and not element.text_content().strip():
            remove_keep_tail(element)
    fragment = inner_html(root).strip()
    return replace(block, html=fragment, text=normalize_space(html_to_text(fragment)))


def strip_trailing_text(block: Block, count: int) -> Block:
    """The block without the last ``count`` non-space characters of its text.

    The mirror of :func:`strip_leading_text`, for a byline or "[mehr]" link at the
    end; elements left empty (the link) are dropped.
    """
    root = parse_fragment(block.html)
    if root is None:
        return block
    remaining = count
    slots = list(_text_slots(root))
    for node, attr in reversed(slots):
        if remaining <= 0:
            break
        value = getattr(node, attr) or ""
        cut = len(value)
        while cut > 0 and remaining > 0:
            if not value[cut - 1].isspace():
                remaining -= 1
            cut -= 1
        setattr(node, attr, value[:cut])
    for node, attr in reversed(slots):
        value = getattr(node, attr) or ""
        stripped = value.rstrip(" \t\n\u00a0")
        setattr(node, attr, stripped)
        if stripped:
            break
    for element in list(root.iterdescendants()):
        if tag_of(element) not in (None, "br") and not element.text_content().strip():
            remove_keep_tail(element)
    fragment = re.sub(r"(?:\s*<br\s*/?>)+$", "", inner_html(root).strip(), flags=re.I)
    return replace(block, html=fragment, text=normalize_space(html_to_text(fragment)))


def _text_slots(root: Any) -> Iterator[tuple[Any, str]]:
    """(node, "text"|"tail") pairs in reading order: an element's text, its children,
    then its tail."""
    yield root, "text"
    for child in root:
        if tag_of(child) is not None:
            yield from _text_slots(child)
        yield child, "tail"
