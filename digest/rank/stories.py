"""From candidates to scored stories: clustering, history, editor drops (no choosing yet).

:func:`prepare` is the expensive half of the ranking (clustering is most of it);
its :class:`StoryPool` is reused for every subscriber variant by
:func:`digest.rank.edition.choose`, which only filters and re-orders.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from digest.rank.cluster import Document, Link, find_stories, similarity
from digest.rank.exclude import title_exclusions
from digest.rank.model import EditorActions, History, RankingConfig, Reason, ReasonKind, SentItem
from digest.rank.scoring import Candidate
from digest.rank.signals import Scorer
from digest.rank.text import DocFeatures


@dataclass(frozen=True)
class Scored:
    """A candidate with its score, the signals behind it and its story."""

    candidate: Candidate
    score: float
    signals: Mapping[str, float]
    story_id: int


@dataclass(frozen=True)
class Story:
    """Articles reporting one story; ``id`` is the smallest member's article id."""

    id: int
    # Best score first (ties: newer, then URL, then id).
    members: tuple[Scored, ...]
    # Items of earlier editions that reported this story.
    sent: tuple[SentItem, ...] = ()
    # Members that may not represent the story, and why (sent before, dropped).
    blocked: Mapping[int, Reason] = field(default_factory=dict)
    # Verified links between members (article ids, smaller first) and their evidence.
    links: Mapping[tuple[int, int], Link] = field(default_factory=dict)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({m.candidate.source or "" for m in self.members}))


@dataclass(frozen=True)
class StoryPool:
    """Everything :func:`choose` needs, computed once per edition."""

    now: datetime
    config: RankingConfig
    editor: EditorActions
    stories: tuple[Story, ...]
    # Features by document index, and candidates' document indexes by article id.
    features: Sequence[DocFeatures]
    documents: Mapping[int, int]
    idf: Sequence[float]
    # Pairs proposed by LSH (how much verification work clustering did).
    candidate_pairs: int
    notes: tuple[str, ...] = ()
    # Norms computed on demand: MMR needs them for a few hundred candidates only.
    _norms: dict[int, float] = field(default_factory=dict, compare=False, repr=False)

    def _norm(self, article_id: int) -> float:
        norm = self._norms.get(article_id)
        if norm is None:
            idf = self.idf
            words = self.features[self.documents[article_id]].words
            norm = math.sqrt(sum(idf[f] ** 2 for f in words))
            self._norms[article_id] = norm
        return norm

    def text_similarity(self, a: int, b: int) -> float:
        """IDF cosine of two candidates' texts (by article id), 0..1."""
        value = similarity(
            self.features[self.documents[a]].words,
            self.features[self.documents[b]].words,
            self.idf,
            norm_a=self._norm(a),
            norm_b=self._norm(b),
        )
        return min(value, 1.0)


def order_key(item: Scored) -> tuple[float, float, str, int]:
    # Higher score first; among equals the newer article, then URL and id, so the
    # same input always gives the same order.
    candidate = item.candidate
    return (-item.score, -candidate.published_at.timestamp(), candidate.url, candidate.id)


def recent_history(history: History, editions: int) -> list[SentItem]:
    """The items of the ``editions`` most recent edition dates in ``history``."""
    if editions <= 0:
        return []
    dates = sorted({item.edition_date for item in history.sent}, reverse=True)[:editions]
    keep = set(dates)
    return sorted(
        (item for item in history.sent if item.edition_date in keep),
        key=lambda s: (s.edition_date, s.article_id or 0, s.url),
    )


def _document(candidate: Candidate) -> Document:
    return Document(
        text=f"{candidate.title}\n{candidate.text}",
        language=candidate.language,
        published_at=candidate.published_at,
        source=candidate.source,
    )


@dataclass(frozen=True)
class _SentIndex:
    """Sent items by article id and by URL, the latest edition winning."""

    by_id: Mapping[int, SentItem]
    by_url: Mapping[str, SentItem]

    def __bool__(self) -> bool:
        return bool(self.by_id or self.by_url)

    @classmethod
    def of(cls, sent: Sequence[SentItem]) -> _SentIndex:
        by_id: dict[int, SentItem] = {}
        by_url: dict[str, SentItem] = {}
        for item in sent:  # oldest first, so later editions overwrite
            if item.article_id is not None:
                by_id[item.article_id] = item
            if item.url:
                by_url[item.url] = item
        return cls(by_id, by_url)

    def match(self, candidate: Candidate) -> SentItem | None:
        """The latest sent item that is this very article (same id or URL)."""
        found = [
            item
            for item in (self.by_id.get(candidate.id), self.by_url.get(candidate.url))
            if item is not None
        ]
        return max(found, key=lambda s: s.edition_date) if found else None


def _updated(candidate: Candidate, item: SentItem) -> bool:
    return bool(candidate.content_hash and item.content_hash) and (
        candidate.content_hash != item.content_hash
    )


def prepare(
    candidates: Iterable[Candidate],
    *,
    now: datetime,
    config: RankingConfig,
    history: History,
    editor: EditorActions,
) -> StoryPool:
    """Cluster, score and apply history and editor drops. Input order does not matter."""
    ordered = sorted(candidates, key=lambda c: (c.id, c.url))
    ids = [c.id for c in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("candidates must have distinct ids")
    sent = recent_history(history, config.novelty_editions)
    clustered_sent = [item for item in sent if item.title or item.text]
    documents = [_document(c) for c in ordered] + [
        # A sent item is dated at the reference time: its original date is not
        # known here and the time window is about this edition's articles.
        Document(f"{s.title}\n{s.text}", s.language, now)
        for s in clustered_sent
    ]
    clustering = find_stories(documents, config.cluster)
    n = len(ordered)

    groups: dict[int, list[int]] = {}
    for index, label in enumerate(clustering.labels):
        groups.setdefault(label, []).append(index)

    links: dict[int, dict[tuple[int, int], Link]] = {}
    for (i, j), link in clustering.links.items():
        if i < n and j < n:
            links.setdefault(clustering.labels[i], {})[(ordered[i].id, ordered[j].id)] = link

    pins, drops = editor.pins, editor.drops
    sent_index = _SentIndex.of(sent)
    scorer = Scorer(now=now, config=config)
    stories: list[Story] = []
    excluded = title_exclusions(ordered, config.exclude_titles)
    # Without history or drops nothing can block a lone report: score it directly.
    simple = not sent and not drops
    for label, indexes in groups.items():
        if simple and len(indexes) == 1 and ordered[indexes[0]].id not in excluded:
            candidate = ordered[indexes[0]]
            value, values = scorer(candidate, editor_boost=editor.boosts.get(candidate.id, 1.0))
            stories.append(Story(candidate.id, (Scored(candidate, value, values, candidate.id),)))
            continue
        members = [ordered[i] for i in indexes if i < n]
        if not members:
            continue
        story_sent = tuple(clustered_sent[i - n] for i in indexes if i >= n)
        stories.append(
            _story(
                members,
                story_sent,
                sent_index,
                links.get(label, {}),
                scorer,
                config,
                editor,
                excluded,
            )
        )
    # Labels are the smallest document index of a story and documents are in
    # id order, so stories are already in id order.

    known = set(ids)
    notes = tuple(
        f"{action} article {article} is not among the candidates"
        for action, chosen in (("pinned", pins), ("dropped", drops), ("boosted", editor.boosts))
        for article in sorted(chosen)
        if article not in known
    )
    return StoryPool(
        now=now,
        config=config,
        editor=editor,
        stories=tuple(stories),
        features=clustering.features,
        documents={c.id: i for i, c in enumerate(ordered)},
        idf=clustering.idf,
        candidate_pairs=clustering.candidate_pairs,
        notes=notes,
    )


def _story(
    members: list[Candidate],
    story_sent: tuple[SentItem, ...],
    sent: _SentIndex,
    links: Mapping[tuple[int, int], Link],
    scorer: Scorer,
    config: RankingConfig,
    editor: EditorActions,
    excluded: Mapping[int, Reason],
) -> Story:
    story_id = min(c.id for c in members)
    blocked: dict[int, Reason] = {}
    novelty: dict[int, float] = {}
    updated_any = False
    if sent:
        for candidate in members:
            match = sent.match(candidate)
            if match is None:
                continue
            if _updated(candidate, match):
                novelty[candidate.id] = config.updated_factor
                updated_any = True
            else:
                blocked[candidate.id] = Reason(
                    ReasonKind.ALREADY_SENT,
                    f"sent in the edition of {match.edition_date.isoformat()} and unchanged since",
                    related_article_id=match.article_id,
                    date=match.edition_date,
                )
    if not updated_any and (story_sent or blocked):
        # Sent before: as another report (story_sent) or as one of these very
        # articles (blocked so far only holds ALREADY_SENT). Either way the story
        # is not news any more, so none of its reports may take its place.
        earlier = list(story_sent) + [
            sent.by_id.get(c.id) or sent.by_url[c.url] for c in members if c.id in blocked
        ]
        first = min(earlier, key=lambda s: (s.edition_date, s.article_id or 0, s.url))
        reason = Reason(
            ReasonKind.STORY_SENT,
            f"this story went out on {first.edition_date.isoformat()}"
            + (f" as article {first.article_id}" if first.article_id is not None else "")
            + f" ({first.title or first.url})",
            related_article_id=first.article_id,
            date=first.edition_date,
        )
        for candidate in members:
            blocked.setdefault(candidate.id, reason)
    for candidate in members:
        # An advert or paywall teaser (ranking.exclude_titles); other reports of its
        # story may still represent it.
        if candidate.id in excluded:
            blocked[candidate.id] = excluded[candidate.id]
    if editor.drops:
        dropped = sorted(editor.drops.intersection(c.id for c in members))
        for candidate in members if dropped else ():
            blocked[candidate.id] = Reason(
                ReasonKind.DROPPED,
                "dropped by the editor"
                if candidate.id in dropped
                else f"its story was dropped by the editor (article {dropped[0]})",
                related_article_id=dropped[0],
            )
    for pinned in editor.pins.intersection(blocked):
        # A pin overrides history, drops and exclude_titles for the pinned article itself.
        del blocked[pinned]
    sources = len({c.source for c in members}) if len(members) > 1 else 1
    boosts = editor.boosts
    scored = []
    for candidate in members:
        value, values = scorer(
            candidate,
            sources_in_story=sources,
            novelty=novelty.get(candidate.id, 1.0),
            editor_boost=boosts.get(candidate.id, 1.0),
        )
        scored.append(Scored(candidate, value, values, story_id))
    if len(scored) > 1:
        scored.sort(key=order_key)
    return Story(story_id, tuple(scored), story_sent, blocked, links)
