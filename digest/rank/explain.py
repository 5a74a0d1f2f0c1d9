"""Why each candidate is in or out, as data (for `digest rank --json`) and as text.

Every candidate gets one :class:`ExplanationRow`: its score broken down by
signal (raw values and the points each additive signal contributed), its story
(cluster id, size, sources) and either its place in the email or the reason it
was left out (duplicate of which article, below the threshold, over a cap,
already sent on which date, dropped by the editor, thin day, muted, other topics).
A candidate whose date was estimated at ingest (the source gave none) says so and how,
because its recency is only as good as that estimate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from digest.rank.edition import EditionSelection
from digest.rank.model import Reason
from digest.rank.scoring import Candidate
from digest.rank.signals import contributions

# Candidate.date_estimate values (set at ingest) and how explanations name them.
_DATE_ESTIMATES = {
    "ingest": "ingest time",
    "feed": "the feed's date",
    "http": "HTTP Last-Modified",
    "page_text": "guessed from the page text",
}


def date_note(estimate: str | None) -> str | None:
    """ "date estimated (ingest time)" for an estimated date, None for the article's own."""
    if estimate is None:
        return None
    return f"date estimated ({_DATE_ESTIMATES.get(estimate, estimate)})"


@dataclass(frozen=True)
class ExplanationRow:
    article_id: int
    title: str
    source: str | None
    status: Literal["selected", "excluded"]
    score: float
    signals: Mapping[str, float]
    contributions: Mapping[str, float]
    story_id: int
    story_size: int
    story_sources: tuple[str, ...]
    position: int | None = None
    section: str | None = None
    also_reported_by: tuple[int, ...] = ()
    reason: Reason | None = None
    # A selected item's remark, e.g. kept over a cap that would have shortened the edition.
    note: str | None = None
    # The newsletter topics it has, where each came from, and categories that map to none.
    topics: tuple[str, ...] = ()
    topic_origins: tuple[str, ...] = ()
    unmapped_categories: tuple[str, ...] = ()

    def describe_topics(self) -> str:
        """ "Robotik (category 'Robotics')", or "no topic"; for people."""
        if not self.topics:
            return "no topic"
        return ", ".join(
            f"{topic} ({origin})" if origin else topic
            for topic, origin in zip(self.topics, self.topic_origins, strict=False)
        )

    date_estimate: str | None = None

    @property
    def date_note(self) -> str | None:
        return date_note(self.date_estimate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "status": self.status,
            "position": self.position,
            "section": self.section,
            "score": round(self.score, 4),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "contributions": {k: round(v, 4) for k, v in self.contributions.items()},
            "story": {
                "id": self.story_id,
                "size": self.story_size,
                "sources": list(self.story_sources),
            },
            "also_reported_by": list(self.also_reported_by),
            "reason": self.reason.to_dict() if self.reason else None,
            "note": self.note,
            "topics": [
                {"topic": topic, "origin": origin}
                for topic, origin in zip(self.topics, self.topic_origins, strict=False)
            ],
            "unmapped_categories": list(self.unmapped_categories),
            "date_estimate": self.date_estimate,
            "date_note": self.date_note,
        }


def explain(selection: EditionSelection) -> list[ExplanationRow]:
    """One row per candidate: the items in email order, then the rest best score first."""
    config = selection.pool.config
    stories = {story.id: story for story in selection.stories}
    rows: list[ExplanationRow] = []
    for item in selection.items:
        story = stories[item.story_id]
        rows.append(
            ExplanationRow(
                article_id=item.candidate.id,
                title=item.candidate.title,
                source=item.candidate.source,
                status="selected",
                score=item.score,
                signals=item.signals,
                contributions=contributions(item.signals, config),
                story_id=story.id,
                story_size=len(story.members),
                story_sources=story.sources,
                position=item.position,
                section=item.section,
                also_reported_by=tuple(c.id for c in item.also_reported_by),
                note=item.note,
                **_topics(item.candidate),
                date_estimate=item.candidate.date_estimate,
            )
        )
    for out in selection.excluded:
        story = stories[out.story_id]
        rows.append(
            ExplanationRow(
                article_id=out.candidate.id,
                title=out.candidate.title,
                source=out.candidate.source,
                status="excluded",
                score=out.score,
                signals=out.signals,
                contributions=contributions(out.signals, config),
                story_id=story.id,
                story_size=len(story.members),
                story_sources=story.sources,
                reason=out.reason,
                **_topics(out.candidate),
                date_estimate=out.candidate.date_estimate,
            )
        )
    return rows


def _topics(candidate: Candidate) -> dict[str, Any]:
    return {
        "topics": candidate.topics,
        "topic_origins": candidate.topic_origins,
        "unmapped_categories": candidate.unmapped_categories,
    }


def unmapped_categories(selection: EditionSelection) -> list[tuple[str, int]]:
    """Categories of the candidates that reach no topic, most frequent first."""
    counts: Counter[str] = Counter()
    for story in selection.stories:
        for member in story.members:
            counts.update(member.candidate.unmapped_categories)
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0].casefold()))


def explanation_dict(selection: EditionSelection) -> dict[str, Any]:
    """The whole explanation as JSON-ready data."""
    thin = selection.thin_day
    return {
        "preference": selection.preference.describe() if selection.preference else None,
        "thin_day": None
        if thin is None
        else {"action": thin.action, "cleared": thin.cleared, "reason": thin.reason},
        "sections": [
            {"key": s.key, "items": [item.candidate.id for item in s.items]}
            for s in selection.sections
        ],
        "stories": len(selection.stories),
        "candidate_pairs": selection.pool.candidate_pairs,
        "notes": list(selection.notes),
        "unmapped_categories": [
            {"category": name, "articles": count} for name, count in unmapped_categories(selection)
        ],
        "rows": [row.to_dict() for row in explain(selection)],
    }


def format_explanation(selection: EditionSelection, *, limit: int | None = None) -> str:
    """A plain-text report: thin-day notice, then one line per candidate."""
    lines: list[str] = []
    if selection.thin_day is not None:
        lines.append(f"THIN DAY: {selection.thin_day.reason}")
    lines.extend(f"note: {note}" for note in selection.notes)
    rows = explain(selection)
    for row in rows[:limit] if limit is not None else rows:
        parts = ", ".join(f"{k} {v:.3f}" for k, v in row.contributions.items() if v)
        where = (
            f"#{row.position} [{row.section}]"
            if row.status == "selected"
            else f"out: {row.reason.kind if row.reason else '?'}"
        )
        lines.append(
            f"{row.article_id:>6} {row.score:7.3f}  {where:<22} {row.title[:70]}"
            f"  ({row.source or '-'}; story {row.story_id}×{row.story_size})"
        )
        lines.append(f"{'':>15}{parts}; topics: {row.describe_topics()}")
        if row.date_note is not None:
            lines.append(f"{'':>15}{row.date_note}")
        if row.reason is not None:
            lines.append(f"{'':>15}{row.reason.detail}")
        if row.note is not None:
            lines.append(f"{'':>15}{row.note}")
    return "\n".join(lines)
