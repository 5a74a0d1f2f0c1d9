"""Site boilerplate detection: what a publisher appends to articles, never article text.

Two mechanisms, because neither is enough on its own:

1. A block classifier. Each :class:`Rule` recognises one kind of junk (ads, newsletter
   plugs, share bars, disclaimers ...) in German or English. Patterns that could also
   occur in a sentence of real reporting only fire on short blocks (``max_len``), so a
   long paragraph that merely mentions a newsletter or cookies is kept.
2. A tail cut. Sites put their junk after the article, and some of it is impossible to
   recognise by itself (a book advert, a list of other headlines). Once a rule marked
   ``ends_article`` fires after real content, everything below is dropped, unless the
   article continues (see :func:`continues_after`): a sponsored offer, a newsletter or
   follow box or a book advert in the middle of a story must not take the rest of it
   along, so after such an interruption the article goes on when the next block no
   rule recognises reads like article prose (:func:`is_prose`). Markers that open a
   section of their own ("Kommentare", "Über die Autorin:", a paywall, "Top-Stories")
   are followed by what they announce, prose included (user comments, an author's
   bio, a membership pitch): there the article only goes on when several long prose
   paragraphs follow.

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

__all__ = [
    "INTERRUPTIONS",
    "RULES",
    "Rule",
    "Verdict",
    "classify",
    "continues_after",
    "is_prose",
    "remove_boilerplate",
    "repeats_title",
]


# After a section marker the article goes on only when this many long prose
# paragraphs follow that no rule recognises (see module docstring).
_CONTINUES_AFTER = 3
_LONG_PROSE_LEN = 200
_CONTENT_MIN_LEN = 80
_PROSE_END = re.compile(r"[.!?…\"“”»«'’)]\s*$")
# Junk that publishers also put inside the article body, between its paragraphs.
# Other end markers (comments, paywall, author bio, footer, navigation, disclaimers,
# contact, related-links headings) open the tail.
INTERRUPTIONS = frozenset({"ad", "book", "newsletter", "social"})
# A marker of at most this many words (or one ending in ":") is a label over what
# follows ("Newsletter", "Folgen Sie uns:"), not an interruption that is over.
_LABEL_MAX_WORDS = 5
# A paragraph of reporting: sentence length, a sentence end, not mostly link text
# (a teaser of another article is mostly its link). A related headline, a book
# title or a label is none of these.
_PROSE_MIN_LEN = 120
_PROSE_MIN_WORDS = 15
_PROSE_MAX_LINK_SHARE = 0.5
_LINK_TEXT = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


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


def is_prose(block: Block) -> bool:
    """Whether a block reads like a paragraph of an article: a paragraph or quote of
    sentence length that ends a sentence and is not mostly link text.

    Knows nothing of junk words; callers ask the rules first.
    """
    text = block.text
    if block.tag not in ("p", "blockquote") or len(text) < _PROSE_MIN_LEN:
        return False
    if len(text.split()) < _PROSE_MIN_WORDS or not _PROSE_END.search(text):
        return False
    linked = sum(len("".join(_TAG.sub("", m).split())) for m in _LINK_TEXT.findall(block.html))
    return linked <= _PROSE_MAX_LINK_SHARE * len("".join(text.split()))


def _is_label(block: Block) -> bool:
    text = block.text.strip()
    return block.is_heading or len(text.split()) <= _LABEL_MAX_WORDS or text.endswith(":")


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
        ends = rule is not None and rule.ends_article and seen_content
        if ends and not continues_after(verdict, verdicts[index + 1 :]):
            break
    return _drop_dangling_headings(kept)


def continues_after(marker: Verdict, rest: list[Verdict]) -> bool:
    """Whether the article goes on below an end marker, given the verdicts below it.

    After an interruption (a self-contained offer, plug or follow line, see
    ``INTERRUPTIONS``) it does when the first block below that no rule recognises
    and that is not a heading reads like prose; after any marker when several long
    prose paragraphs follow (see module docstring).
    """
    rule = marker.rule
    if rule is not None and rule.kind in INTERRUPTIONS and not _is_label(marker.block):
        following = (v.block for v in rest if not v.is_boilerplate and not v.block.is_heading)
        first = next(following, None)
        if first is not None and is_prose(first):
            return True
    long_prose = sum(
        1
        for v in rest
        if not v.is_boilerplate
        and v.block.tag in ("p", "blockquote")
        and len(v.block.text) >= _LONG_PROSE_LEN
        and _PROSE_END.search(v.block.text)
    )
    return long_prose >= _CONTINUES_AFTER


def _drop_dangling_headings(blocks: list[Block]) -> list[Block]:
    # A heading whose section was all junk ("Mehr zum Thema" above removed links,
    # a box title above a removed plug) would now introduce nothing: it is followed
    # by the next heading of its level or above. One followed by a deeper heading
    # opens a section with subsections ("Status Quo" over "Analoge Prozesse").
    while blocks and blocks[-1].is_heading:
        blocks = blocks[:-1]
    return [
        block
        for index, block in enumerate(blocks)
        if not (
            block.is_heading
            and index + 1 < len(blocks)
            and blocks[index + 1].is_heading
            and blocks[index + 1].tag <= block.tag  # "h2" < "h3" < "h4"
        )
    ]
