"""What a boilerplate rule is; the rules themselves live in the sibling modules."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Social networks named in follow/share lines. A bare "X" is too common a word to count.
NETWORKS = (
    r"(?:twitter|x\.com|facebook|linkedin|instagram|telegram|whatsapp|mastodon|bluesky|"
    r"threads|youtube|tiktok|xing|reddit|pinterest|flipboard|google news)"
)


@dataclass(frozen=True)
class Rule:
    """One kind of boilerplate: every pattern must match (AND), within ``max_len``."""

    kind: str
    patterns: tuple[re.Pattern[str], ...]
    max_len: int | None = None
    ends_article: bool = False

    def matches(self, text: str) -> bool:
        if self.max_len is not None and len(text) > self.max_len:
            return False
        return all(pattern.search(text) for pattern in self.patterns)


def rule(kind: str, *patterns: str, max_len: int | None = None, ends: bool = False) -> Rule:
    """A case-insensitive rule; ``ends``: the article ends where it fires (tail cut)."""
    return Rule(kind, tuple(re.compile(p, re.IGNORECASE) for p in patterns), max_len, ends)
