"""Site boilerplate detection: what a publisher appends to articles, never article text.

Two mechanisms, because neither is enough on its own:

1. A block classifier. Each :class:`Rule` recognises one kind of junk (ads, newsletter
   plugs, share bars, disclaimers ...) in German or English. Patterns that could also
   occur in a sentence of real reporting only fire on short blocks (``max_len``), so a
   long paragraph that merely mentions a newsletter or cookies is kept.
2. A tail cut. Sites put their junk after the article, and some of it is impossible to
   recognise by itself (a book advert, a list of other headlines). Once a rule marked
   ``ends_article`` fires after real content, everything below is dropped, unless the
   article clearly continues (several long prose paragraphs no rule recognises:
   a newsletter box in the middle of a story must not take the second half with it).

Pure functions, no I/O. The rules live in :mod:`digest.ingest.rules`; add a pattern
there when a new kind of junk shows up, and an example of it to the tests
(tests/test_ingest_junk.py, tests/data/ingest/) so it stays caught, with a sentence
of real reporting that uses the same words and must stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.ingest.blocks import Block
from digest.ingest.rules import RULES, Rule

__all__ = ["RULES", "Rule", "Verdict", "classify", "remove_boilerplate", "repeats_title"]


# An article "clearly continues" below an end marker when this many long prose
# paragraphs follow that no rule recognises (see module docstring).
_CONTINUES_AFTER = 3
_PROSE_MIN_LEN = 200
_CONTENT_MIN_LEN = 80
_PROSE_END = re.compile(r"[.!?…\"“”»«'’)]\s*$")


def classify(text: str) -> Rule | None:
    """The first rule that recognises this block text as boilerplate, or None."""
    for rule in RULES:
        if rule.matches(text):
            return rule
    return None


def _comparable(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def repeats_title(text: str, titles: tuple[str, ...]) -> bool:
    """A block that is only the headline again, or the headline plus a photo credit."""
    block = _comparable(text)
    if not block:
        return False
    for title in titles:
        wanted = _comparable(title)
        if len(wanted) < 8:
            continue
        if block == wanted:
            return True
        # "<title> (Foto: ...)" or "<title> | Site": the title plus a short tail
        if block.startswith(wanted) and len(block) - len(wanted) <= 60 and len(text) < 300:
            rest = text[len(title) :] if text.startswith(title) else ""
            if re.match(r"^\s*[(\[|–—-]", rest):
                return True
    return False


def _is_prose(block: Block) -> bool:
    return (
        block.tag in ("p", "blockquote")
        and len(block.text) >= _PROSE_MIN_LEN
        and bool(_PROSE_END.search(block.text))
    )


@dataclass(frozen=True)
class Verdict:
    block: Block
    rule: Rule | None  # None: the block is kept, or was cut as part of the tail
    repeated_title: bool = False

    @property
    def is_boilerplate(self) -> bool:
        return self.rule is not None or self.repeated_title


def remove_boilerplate(blocks: list[Block], *, titles: tuple[str, ...] = ()) -> list[Block]:
    """The article's own blocks: recognised junk removed and the junk tail cut off.

    ``titles`` are spellings of the headline; a block that only repeats one of them
    (an image caption, a "you are reading" line) is dropped.
    """
    verdicts = [Verdict(b, classify(b.text), repeats_title(b.text, titles)) for b in blocks]
    kept: list[Block] = []
    seen_content = False
    for index, verdict in enumerate(verdicts):
        if not verdict.is_boilerplate:
            kept.append(verdict.block)
            seen_content = seen_content or len(verdict.block.text) >= _CONTENT_MIN_LEN
            continue
        rule = verdict.rule
        if rule is not None and rule.ends_article and seen_content:
            rest = verdicts[index + 1 :]
            prose = sum(1 for v in rest if not v.is_boilerplate and _is_prose(v.block))
            if prose < _CONTINUES_AFTER:
                break
    return _drop_dangling_headings(kept)


def _drop_dangling_headings(blocks: list[Block]) -> list[Block]:
    # A heading whose section was all junk ("Mehr zum Thema" above removed links,
    # a box title above a removed plug) would now introduce nothing.
    while blocks and blocks[-1].is_heading:
        blocks = blocks[:-1]
    return [
        block
        for index, block in enumerate(blocks)
        if not (block.is_heading and index + 1 < len(blocks) and blocks[index + 1].is_heading)
    ]
