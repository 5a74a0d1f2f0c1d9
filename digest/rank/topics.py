"""Which of the newsletter's topics an article is about, and why.

Real publishers' articles rarely carry our topic names. An article's topics
come from three places, in this order, each noted as the topic's origin:

1. its categories (RSS ``<category>``, Atom ``<category term>``, JSON
   ``topics``), mapped onto ``newsletter.topics`` through the alias table:
   the topic's own name, the publisher's ``topics.aliases`` and, unless
   turned off, the de/en names in :mod:`digest.rank.topic_names`; compared
   by :func:`topic_key`, so case, accents, hyphens and a plural -s don't
   matter. A category such as "Tech > KI" or "KI & Robotik" is also tried
   part by part;
2. its URL: ``topics.url_rules`` (path fragments such as ``/wirtschaft/``) and,
   with ``topics.url_sections``, a path segment that names a topic or one of
   its aliases (``https://example.com/politik/…``);
3. ``topics.keywords``: words or phrases in the title or lead (``Roboter*``
   matches the start of a word, so also "Roboterarm").

A category that reaches no topic is *unmapped*: it never becomes a section
heading of its own (an English "Robotics" heading in a German email), and is
listed by ``digest rank --explain`` and ``digest config`` so an editor can map
it. An article with no topic has none: "no topic" is not a topic.

Pure: the same rules and article give the same answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from digest.rank.topic_names import TOPIC_GROUPS

# Where a hierarchical or combined category splits into names: "Tech > KI",
# "Wirtschaft/Unternehmen", "KI & Robotik", "Politics | World".
_PARTS = re.compile(r"\s*(?:[/>|»›:;,&+]|\s-\s|\bund\b|\band\b)\s*", re.IGNORECASE)
_UMLAUT_SPELLINGS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
# Characters of the lead that keyword rules read (the title is read too).
KEYWORD_CHARS = 600


def topic_key(name: str) -> str:
    """The form names are compared in: "Start-ups", "startups" and "Startup" are one.

    Case-folded, accents removed (Mobilität = Mobilitat = Mobilitaet), only
    letters and digits kept, and a final plural "s" dropped.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold().replace("ß", "ss"))
    letters = "".join(ch for ch in decomposed if ch.isalnum())
    for spelled, plain in _UMLAUT_SPELLINGS:
        letters = letters.replace(spelled, plain)
    if len(letters) > 3 and letters.endswith("s"):
        letters = letters[:-1]
    return letters


@dataclass(frozen=True)
class TopicRules:
    """The newsletter's topics and how articles reach them (the ``topics`` settings)."""

    topics: tuple[str, ...] = ()
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    builtin_aliases: bool = True
    url_rules: Mapping[str, Sequence[str]] = field(default_factory=dict)
    url_sections: bool = True
    keywords: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicAssignment:
    """An article's topics, in order, each with where it came from."""

    topics: tuple[str, ...] = ()
    # One per topic, same order: "category 'Robotics'", "URL /politik/", "keyword 'LLM'".
    origins: tuple[str, ...] = ()
    # Categories the article carries that reach no topic.
    unmapped: tuple[str, ...] = ()


class TopicMapper:
    """Maps articles onto the configured topics; build once per ranking, reuse."""

    def __init__(self, rules: TopicRules) -> None:
        self.rules = rules
        self._names = _alias_index(rules)
        self._url_rules = [
            (topic, fragment.casefold())
            for topic in rules.topics
            for fragment in rules.url_rules.get(topic, ())
            if fragment.strip()
        ]
        self._keywords = [
            (topic, keyword, _keyword_pattern(keyword))
            for topic in rules.topics
            for keyword in rules.keywords.get(topic, ())
            if keyword.strip(" *")
        ]

    def categories(self, names: Iterable[str]) -> tuple[list[tuple[str, str]], list[str]]:
        """(topic, origin) for each category that maps, and the ones that don't."""
        mapped: list[tuple[str, str]] = []
        unmapped: list[str] = []
        for name in names:
            topics = self._all_topics_of(name)
            if topics:
                mapped.extend((topic, f"category {name!r}") for topic in topics)
            else:
                unmapped.append(name)
        return mapped, unmapped

    def unmapped(self, counts: Mapping[str, int]) -> list[tuple[str, int]]:
        """The categories among ``counts`` that reach no topic, most frequent first."""
        missing = [(name, n) for name, n in counts.items() if not self._all_topics_of(name)]
        return sorted(missing, key=lambda pair: (-pair[1], pair[0].casefold()))

    def _all_topics_of(self, name: str) -> list[str]:
        whole = self._names.get(topic_key(name))
        if whole is not None:
            return [whole]
        found: list[str] = []
        for part in _PARTS.split(name):
            topic = self._names.get(topic_key(part)) if part else None
            if topic is not None and topic not in found:
                found.append(topic)
        return found

    def assign(
        self, categories: Iterable[str], url: str = "", title: str = "", text: str = ""
    ) -> TopicAssignment:
        """The article's topics, from its categories, then its URL, then keywords."""
        found: dict[str, str] = {}
        mapped, unmapped = self.categories(categories)
        for topic, origin in mapped:
            found.setdefault(topic, origin)
        if url:
            for topic, origin in self._from_url(url):
                found.setdefault(topic, origin)
        if self._keywords:
            haystack = f"{title}\n{text[:KEYWORD_CHARS]}"
            for topic, keyword, pattern in self._keywords:
                if topic not in found and pattern.search(haystack):
                    found[topic] = f"keyword {keyword!r}"
        return TopicAssignment(tuple(found), tuple(found.values()), tuple(unmapped))

    def _from_url(self, url: str) -> list[tuple[str, str]]:
        path = unquote(urlsplit(url).path)
        lowered = path.casefold()
        result = [(topic, f"URL {frag}") for topic, frag in self._url_rules if frag in lowered]
        if self.rules.url_sections:
            # Only folders: the last segment is the article's own slug, whose
            # words say what it is about only by accident.
            for segment in [s for s in path.split("/") if s][:-1]:
                topic = self._names.get(topic_key(segment))
                if topic is not None:
                    result.append((topic, f"URL section /{segment}/"))
        return result


def _alias_index(rules: TopicRules) -> dict[str, str]:
    """Every name's key -> topic; a topic's own name wins, then its aliases, then built-ins."""
    index: dict[str, str] = {}
    for topic in rules.topics:
        index.setdefault(topic_key(topic), topic)
    for topic in rules.topics:
        for alias in rules.aliases.get(topic, ()):
            index.setdefault(topic_key(alias), topic)
    if rules.builtin_aliases:
        groups = _builtin_groups()
        for topic in rules.topics:
            for group in groups.get(topic_key(topic), ()):
                for name in group:
                    index.setdefault(name, topic)
    index.pop("", None)
    return index


@lru_cache(maxsize=1)
def _builtin_groups() -> dict[str, list[tuple[str, ...]]]:
    """Name key -> the keys of every group that name is in."""
    groups: dict[str, list[tuple[str, ...]]] = {}
    for group in TOPIC_GROUPS:
        keys = tuple(dict.fromkeys(topic_key(name) for name in group))
        for key in keys:
            groups.setdefault(key, []).append(keys)
    return groups


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Whole words, any case; a trailing * matches the start of a word instead."""
    prefix = keyword.strip().endswith("*")
    words = keyword.strip().rstrip("*").split()
    body = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){body}" + ("" if prefix else r"(?!\w)"), re.IGNORECASE)
