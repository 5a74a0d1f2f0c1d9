"""Items left out by their title: adverts and paywalled teasers (ranking.exclude_titles).

Ingest stores a sponsored item like any other (it is real data, and cleaning keeps
its "Anzeige:" or "Plus:" label); the ranking leaves it out, so changing the list
applies to articles already stored and ``digest rank --explain`` says why.

A prefix matches the start of a title ignoring case, leading spaces and opening
brackets or quotes. A prefix that ends in ":" or "|" needs a separator after its
words, and any separator will do: "Anzeige:" matches "Anzeige: ...", "[Anzeige] ...",
"ANZEIGE | ..." and "Anzeige – ...", but not "Anzeige gegen Betreiber erstattet".
A prefix without one must end at a word boundary ("Exklusiv für Abonnenten").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from digest.rank.model import Reason, ReasonKind
from digest.rank.scoring import Candidate

_OPENERS = r"[\s\[({«»„“”\"'‚‘’*•·]*"
_SEPARATOR = r"(?:\s*[:|\])–—·]|\s+-\s)"


def _prefix_pattern(prefix: str) -> str:
    text = prefix.strip()
    separated = text[-1:] in (":", "|")
    words = (text[:-1] if separated else text).split()
    body = r"\s+".join(re.escape(word) for word in words)
    return body + (_SEPARATOR if separated else r"(?!\w)")


_OPENER_CHARS = " \t\n[({«»„“”\"'‚‘’*•·"


@dataclass(frozen=True)
class _Matcher:
    pattern: re.Pattern[str]
    prefixes: tuple[str, ...]
    # The first two characters of each prefix's first word, casefolded: most titles
    # start with none of them and are done without running the pattern.
    starts: tuple[str, ...]


@lru_cache(maxsize=16)
def _matcher(prefixes: tuple[str, ...]) -> _Matcher | None:
    usable = tuple(p.strip() for p in prefixes if p.strip().rstrip(":|").strip())
    if not usable:
        return None
    # One alternation, a named group per prefix: one regex run per title however
    # long the list is (the ranking sees every candidate of the window).
    groups = "|".join(f"(?P<p{i}>{_prefix_pattern(p)})" for i, p in enumerate(usable))
    pattern = re.compile(rf"^{_OPENERS}(?:{groups})", re.IGNORECASE)
    starts = {re.split(r"[\s:|]", p, maxsplit=1)[0][:2].casefold() for p in usable}
    return _Matcher(pattern, usable, tuple(sorted(starts)))


def excluded_prefix(title: str, prefixes: tuple[str, ...]) -> str | None:
    """The entry of ``prefixes`` that ``title`` starts with, or None."""
    matcher = _matcher(prefixes)
    if matcher is None:
        return None
    if not title.lstrip(_OPENER_CHARS)[:2].casefold().startswith(matcher.starts):
        return None
    match = matcher.pattern.match(title)
    if match is None or match.lastgroup is None:
        return None
    return matcher.prefixes[int(match.lastgroup[1:])]


def title_exclusions(
    candidates: Iterable[Candidate], prefixes: tuple[str, ...]
) -> Mapping[int, Reason]:
    """Why each candidate whose title starts with an excluded prefix is out, by id."""
    reasons: dict[int, Reason] = {}
    if not prefixes:
        return reasons
    for candidate in candidates:
        prefix = excluded_prefix(candidate.title, prefixes)
        if prefix is not None:
            reasons[candidate.id] = Reason(
                ReasonKind.EXCLUDED_TITLE,
                f"advert or paywall marker: title starts with {prefix.strip()!r} "
                "(ranking.exclude_titles)",
            )
    return reasons
