"""One edition's selection: the entry point of the ranking.

    pool = prepare(candidates, ...)          # cluster, score, history, drops
    selection = choose(pool, preference)     # representatives, threshold, MMR, caps, sections

:func:`select_edition` does both; :func:`select_variant` reuses an edition's
pool for one subscriber preference set without clustering again. Both are pure:
the same candidates (in any order), ``now``, config, history and editor actions
give the same selection.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, overload

from digest.rank.diversity import (
    OTHER_SECTION,
    Caps,
    Entry,
    Outcome,
    Section,
    fit_caps,
    mmr_select,
    primary_topic,
    sections,
)
from digest.rank.model import (
    EditorActions,
    History,
    PreferenceSet,
    RankingConfig,
    Reason,
    ReasonKind,
)
from digest.rank.scoring import Candidate, Ranked
from digest.rank.stories import Scored, Story, StoryPool, order_key, prepare


@dataclass(frozen=True)
class Chosen:
    """An item of the edition: a story's representative."""

    candidate: Candidate
    score: float
    signals: Mapping[str, float]
    story_id: int
    # 1-based position in the email (sections in order).
    position: int
    section: str
    # Other reports of the same story, best first ("also reported by").
    also_reported_by: tuple[Candidate, ...] = ()
    pinned: bool = False
    # Why it is in despite a configured cap (the edition would be short otherwise).
    note: str | None = None

    @property
    def ranked(self) -> Ranked:
        return Ranked(candidate=self.candidate, score=self.score, signals=self.signals)


@dataclass(frozen=True)
class Excluded:
    candidate: Candidate
    score: float
    signals: Mapping[str, float]
    story_id: int
    reason: Reason


@dataclass(frozen=True)
class ThinDay:
    """Too few items cleared ``min_score``: the edition is skipped or shortened."""

    action: Literal["skip", "shorten"]
    cleared: int
    min_items: int
    min_score: float
    reason: str


@dataclass(frozen=True)
class EditionSelection:
    items: tuple[Chosen, ...]
    sections: tuple[Section[Chosen], ...]
    # Every other candidate, with why; best score first.
    excluded: tuple[Excluded, ...]
    thin_day: ThinDay | None
    preference: PreferenceSet | None
    pool: StoryPool
    # Caps relaxed for this edition, and why (also in ``notes``).
    cap_notes: tuple[str, ...] = ()

    @property
    def skipped(self) -> bool:
        return self.thin_day is not None and self.thin_day.action == "skip"

    @property
    def stories(self) -> tuple[Story, ...]:
        return self.pool.stories

    @property
    def notes(self) -> tuple[str, ...]:
        return self.pool.notes + self.cap_notes

    def ranked(self) -> list[Ranked]:
        """The items as the old ``Ranked`` records, in email order."""
        return [item.ranked for item in self.items]


def select_edition(
    candidates: Iterable[Candidate],
    *,
    now: datetime,
    config: RankingConfig,
    history: History = History(),
    editor: EditorActions = EditorActions(),
    preference: PreferenceSet | None = None,
) -> EditionSelection:
    """Rank the window's candidates into one edition (see the module docstring).

    ``now`` is the reference time for recency, normally the edition's cutoff.
    Raises ValueError for candidates with duplicate ids.
    """
    with gc_paused():
        pool = prepare(candidates, now=now, config=config, history=history, editor=editor)
        return choose(pool, preference)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its previous state afterwards.

    The ranking allocates a few small containers per candidate and frees none
    of them until it returns; each automatic collection rescans them all, which
    cost a fifth of the time at 100,000 candidates. Nothing here creates
    reference cycles, so pausing loses nothing; reference counting still frees
    everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def select_variant(selection: EditionSelection, preference: PreferenceSet) -> EditionSelection:
    """The edition for one preference set, from the same stories and scores."""
    return choose(selection.pool, preference)


def _own(candidate: Candidate, config: RankingConfig) -> bool:
    return candidate.own_site or (candidate.source or "") in config.own_sources


def _representative(members: Sequence[Scored], pool: StoryPool) -> Scored:
    config, pins = pool.config, pool.editor.pins
    pinned = [m for m in members if m.candidate.id in pins]
    if pinned:
        return pinned[0]
    if config.prefer_own_site:
        own = [m for m in members if _own(m.candidate, config)]
        if own:
            return own[0]
    return members[0]


def _duplicate_reason(member: Scored, rep: Scored, story: Story) -> Reason:
    key = (min(member.candidate.id, rep.candidate.id), max(member.candidate.id, rep.candidate.id))
    link = story.links.get(key)
    evidence = link.describe() if link else "linked through other reports of the story"
    return Reason(
        ReasonKind.DUPLICATE,
        f"same story as article {rep.candidate.id} ({rep.candidate.source or 'no source'}), "
        f"which represents it: {evidence}",
        related_article_id=rep.candidate.id,
    )


def choose(pool: StoryPool, preference: PreferenceSet | None = None) -> EditionSelection:
    """Representatives, threshold, thin-day rule, MMR with caps, sections."""
    config = pool.config
    pins = pool.editor.pins
    muted = preference.muted_sources if preference else frozenset()
    wanted = preference.topics if preference else frozenset()
    excluded: list[Excluded] = []

    def exclude(member: Scored, reason: Reason) -> None:
        excluded.append(
            Excluded(member.candidate, member.score, member.signals, member.story_id, reason)
        )

    reps: list[tuple[Scored, Story]] = []
    for story in pool.stories:
        if len(story.members) == 1 and not story.blocked:
            # Most stories have one report and nothing against it: the fast path.
            only = story.members[0]
            source, topics = only.candidate.source or "", only.candidate.topics
            if only.candidate.id in pins or (
                source not in muted and (not wanted or not wanted.isdisjoint(topics))
            ):
                reps.append((only, story))
                continue
        eligible = []
        for member in story.members:
            blocked = story.blocked.get(member.candidate.id)
            if blocked is not None:
                exclude(member, blocked)
            elif (member.candidate.source or "") in muted and member.candidate.id not in pins:
                exclude(
                    member,
                    Reason(ReasonKind.MUTED_SOURCE, f"source {member.candidate.source} is muted"),
                )
            else:
                eligible.append(member)
        if not eligible:
            continue
        rep = _representative(eligible, pool)
        pinned = rep.candidate.id in pins
        if wanted and not pinned and not wanted.intersection(rep.candidate.topics):
            detail = f"topics {', '.join(rep.candidate.topics) or 'none'} not chosen"
            for member in eligible:
                exclude(member, Reason(ReasonKind.OTHER_TOPICS, detail))
            continue
        for member in eligible:
            if member is not rep:
                exclude(member, _duplicate_reason(member, rep, story))
        reps.append((rep, story))

    reps.sort(key=lambda pair: (pair[0].candidate.id not in pins, order_key(pair[0])))
    cleared: list[tuple[Scored, Story]] = []
    for rep, story in reps:
        if rep.candidate.id in pins or rep.score >= config.min_score:
            cleared.append((rep, story))
        else:
            exclude(
                rep,
                Reason(
                    ReasonKind.BELOW_THRESHOLD,
                    f"score {rep.score:.3f} is below min_score {config.min_score:g}",
                ),
            )

    thin = _thin_day(len(cleared), config)
    if thin is not None and thin.action == "skip":
        for rep, _story in cleared:
            exclude(rep, Reason(ReasonKind.THIN_DAY, thin.reason))
        cleared = []

    diversified = _diversify(cleared, pool, exclude)
    chosen = diversified.chosen
    topic_of = {
        item.candidate.id: primary_topic(item.candidate.topics, config.section_order)
        or OTHER_SECTION
        for item, _story in chosen
    }
    ordered_sections = sections(
        [item for item, _story in chosen],
        topic_of=lambda item: topic_of[item.candidate.id],
        top_stories=config.top_stories,
        section_order=config.section_order,
    )
    story_of = {item.candidate.id: story for item, story in chosen}
    items: list[Chosen] = []
    final_sections: list[Section[Chosen]] = []
    for section in ordered_sections:
        members: list[Chosen] = []
        for item in section.items:
            story = story_of[item.candidate.id]
            duplicates = tuple(
                m.candidate
                for m in story.members
                if m is not item
                and m.candidate.id not in story.blocked
                and (m.candidate.source or "") not in muted
            )
            members.append(
                Chosen(
                    candidate=item.candidate,
                    score=item.score,
                    signals=item.signals,
                    story_id=item.story_id,
                    position=len(items) + len(members) + 1,
                    section=section.key,
                    also_reported_by=duplicates,
                    pinned=item.candidate.id in pins,
                    note=diversified.item_notes.get(item.candidate.id),
                )
            )
        items.extend(members)
        final_sections.append(Section(section.key, tuple(members)))
    excluded.sort(key=lambda e: (-e.score, e.candidate.id))
    return EditionSelection(
        items=tuple(items),
        sections=tuple(final_sections),
        excluded=tuple(excluded),
        thin_day=thin,
        preference=preference,
        pool=pool,
        cap_notes=diversified.notes,
    )


def _thin_day(cleared: int, config: RankingConfig) -> ThinDay | None:
    if cleared >= config.min_items and cleared > 0:
        return None
    action: Literal["skip", "shorten"] = "skip" if cleared == 0 else config.thin_day
    reason = (
        f"only {cleared} item(s) scored at least {config.min_score:g} "
        f"(min_items is {config.min_items}): edition "
        + ("skipped" if action == "skip" else f"shortened to {cleared} item(s)")
    )
    return ThinDay(action, cleared, config.min_items, config.min_score, reason)


class _Entries(Sequence[Entry]):
    """MMR's view of the cleared representatives, built on demand (it reads a few hundred)."""

    def __init__(self, cleared: Sequence[tuple[Scored, Story]], pool: StoryPool) -> None:
        self._cleared = cleared
        self._pool = pool
        self._cache: dict[int, Entry] = {}

    def __len__(self) -> int:
        return len(self._cleared)

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | Sequence[Entry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        entry = self._cache.get(index)
        if entry is None:
            config = self._pool.config
            candidate = self._cleared[index][0].candidate
            entry = Entry(
                score=self._cleared[index][0].score,
                source=candidate.source or "",
                topic=primary_topic(candidate.topics, config.section_order),
                exempt=_own(candidate, config) and not config.cap_own_sources,
                pinned=candidate.id in self._pool.editor.pins,
            )
            self._cache[index] = entry
        return entry


def _diversify(
    cleared: Sequence[tuple[Scored, Story]],
    pool: StoryPool,
    exclude: Callable[[Scored, Reason], None],
) -> Diversified:
    config, pins = pool.config, pool.editor.pins
    entries = _Entries(cleared, pool)

    def similar(i: int, j: int) -> float:
        a, b = cleared[i][0].candidate, cleared[j][0].candidate
        topics_a, topics_b = set(a.topics), set(b.topics)
        union = topics_a | topics_b
        topics = len(topics_a & topics_b) / len(union) if union else 0.0
        return 0.5 * topics + 0.5 * pool.text_similarity(a.id, b.id)

    configured = Caps(config.max_per_source, config.max_per_topic)
    fitted = fit_caps(
        (entries[i] for i in range(len(entries))), max_items=config.max_items, caps=configured
    )
    outcome = mmr_select(
        entries,
        pinned=sum(1 for rep, _story in cleared if rep.candidate.id in pins),
        max_items=config.max_items,
        mmr_lambda=config.mmr_lambda,
        caps=fitted,
        similarity=similar,
        pool_size=config.mmr_pool,
    )
    chosen = set(outcome.chosen)
    # One shared reason object for the long tail: it is the same sentence.
    outranked = Reason(
        ReasonKind.OUTRANKED, f"not among the {config.max_items} best after variety re-ranking"
    )
    for index, (rep, _story) in enumerate(cleared):
        if index in chosen:
            continue
        kind = outcome.capped.get(index)
        if kind == "source":
            reason = Reason(
                ReasonKind.SOURCE_CAP,
                f"{fitted.max_per_source} item(s) from {entries[index].source} already chosen "
                f"(max_per_source{_raised(configured.max_per_source, fitted.max_per_source)})",
            )
        elif kind == "topic":
            reason = Reason(
                ReasonKind.TOPIC_CAP,
                f"{fitted.max_per_topic} item(s) on {entries[index].topic} already chosen "
                f"(max_per_topic{_raised(configured.max_per_topic, fitted.max_per_topic)})",
            )
        else:
            reason = outranked
        exclude(rep, reason)
    return Diversified(
        [cleared[i] for i in outcome.chosen],
        _over_cap_notes(outcome, entries, cleared, configured),
        _cap_notes(configured, fitted, outcome, config.max_items),
    )


@dataclass(frozen=True)
class Diversified:
    chosen: list[tuple[Scored, Story]]
    # Article id -> why it is in although it is over a configured cap.
    item_notes: dict[int, str]
    # Which caps were relaxed for this edition, and why.
    notes: tuple[str, ...]


def _raised(configured: int | None, fitted: int | None) -> str:
    return "" if configured == fitted else f" {configured}, raised to {fitted} for this edition"


def _over_cap_notes(
    outcome: Outcome,
    entries: _Entries,
    cleared: Sequence[tuple[Scored, Story]],
    configured: Caps,
) -> dict[int, str]:
    """The chosen items beyond a configured cap: taken so the edition is not short."""
    notes: dict[int, str] = {}
    per_source: dict[str, int] = {}
    per_topic: dict[str, int] = {}
    for index in outcome.chosen:
        entry = entries[index]
        over = []
        if not entry.exempt and not entry.pinned:
            if (
                configured.max_per_source is not None
                and per_source.get(entry.source, 0) >= configured.max_per_source
            ):
                over.append(f"max_per_source {configured.max_per_source} ({entry.source})")
            if (
                configured.max_per_topic is not None
                and entry.topic is not None
                and per_topic.get(entry.topic, 0) >= configured.max_per_topic
            ):
                over.append(f"max_per_topic {configured.max_per_topic} ({entry.topic})")
        per_source[entry.source] = per_source.get(entry.source, 0) + 1
        if entry.topic is not None:
            per_topic[entry.topic] = per_topic.get(entry.topic, 0) + 1
        if over:
            notes[cleared[index][0].candidate.id] = (
                "over " + " and ".join(over) + ": kept, because the other candidates "
                "could not fill the edition"
            )
    return notes


def _cap_notes(configured: Caps, fitted: Caps, outcome: Outcome, max_items: int) -> tuple[str, ...]:
    notes = []
    for name, before, after in (
        ("max_per_source", configured.max_per_source, fitted.max_per_source),
        ("max_per_topic", configured.max_per_topic, fitted.max_per_topic),
    ):
        if before != after:
            notes.append(
                f"{name} raised from {before} to {after} for this edition: with {before}, "
                f"the candidates could not fill {max_items} items"
            )
    if outcome.over_cap:
        notes.append(
            f"{len(outcome.over_cap)} item(s) taken over the caps: every other candidate "
            "was already in and the edition was still short"
        )
    return tuple(notes)
