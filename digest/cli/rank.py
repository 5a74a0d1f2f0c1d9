"""`digest rank`: what an edition would contain, and with --explain why."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from digest import editions, pipeline
from digest.cli.common import (
    DateOption,
    JsonOption,
    app,
    database,
    now,
    out,
    print_json,
    settings,
)
from digest.config import Settings
from digest.rank import EditionSelection, explanation_dict, select_variant
from digest.rank import explain as explain_rows
from digest.rank.explain import unmapped_categories

# --------------------------------------------------------------------------- rank


ExplainOption = Annotated[
    bool,
    typer.Option(
        "--explain",
        "-e",
        help="Every candidate: score by signal, story cluster, and why it is in or out.",
    ),
]
SubscriberOption = Annotated[
    str | None,
    typer.Option("--subscriber", help="Rank for this subscriber's topics and muted sources."),
]


@app.command("rank")
def rank_command(
    date_: DateOption = None,
    explain: ExplainOption = False,
    subscriber: SubscriberOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show what an edition would contain, in email order; --explain shows why.

    Example: digest rank --explain
    """
    cfg = settings()
    moment = now()
    newsletter_date = pipeline.resolve_date(date_, cfg, moment)
    with database() as db:
        with db.session() as session:
            plan = editions.plan(
                session, cfg, newsletter_date, moment, personalize=subscriber is not None
            )
        selection, items, label = plan.selection, plan.items, None
        if subscriber is not None:
            _language, key = pipeline.subscriber_variant(db, cfg, plan, subscriber)
            label = f"the variant for {subscriber}: {key}"
            wanted = next((v for v in plan.variants if v.key == key), None)
            if wanted is not None:
                items = wanted.items
                if selection is not None:
                    selection = select_variant(selection, wanted.preference)
    if as_json:
        print_json(ranking_json(plan, selection, items, explain=explain))
        return
    print_ranking(plan, selection, items, cfg, explain=explain, label=label)


def ranking_json(
    plan: editions.EditionPlan,
    selection: EditionSelection | None,
    items: list[editions.PlannedItem],
    *,
    explain: bool,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "date": plan.newsletter_date.isoformat(),
        "frozen": plan.frozen,
        "window": [plan.window_start.isoformat(), plan.cutoff.isoformat()],
        "candidates": plan.candidates,
        "thin_day": plan.thin_reason,
        "skipped": plan.skipped,
        "items": [
            {
                "position": position,
                "article_id": planned.article_id,
                "section": planned.item.section,
                "score": round(planned.score, 4),
                "signals": {k: round(v, 4) for k, v in planned.signals.items()},
                "title": planned.item.title,
                "source": planned.item.source,
                "published_at": planned.item.published_at.isoformat(),
                "url": planned.item.url,
                "also_reported_by": [a.url for a in planned.item.also_reported_by],
                "pinned": planned.pinned,
            }
            for position, planned in enumerate(items, start=1)
        ],
    }
    if explain and selection is not None:
        data["explanation"] = explanation_dict(selection)
    return data


def print_ranking(
    plan: editions.EditionPlan,
    selection: EditionSelection | None,
    items: list[editions.PlannedItem],
    cfg: Settings,
    *,
    explain: bool,
    label: str | None = None,
) -> None:
    tz = cfg.newsletter.tz
    state_label = "frozen" if plan.frozen else "skipped" if plan.skipped else "draft"
    out.print(
        f"[bold]Edition {plan.newsletter_date}[/] ({state_label}"
        + (f", {label}" if label else "")
        + f"): window {plan.window_start.astimezone(tz):%d.%m. %H:%M} – "
        f"{plan.cutoff.astimezone(tz):%d.%m. %H:%M}",
        highlight=False,
    )
    if selection is not None:
        multi = sum(1 for story in selection.stories if len(story.members) > 1)
        out.print(
            f"{plan.candidates} candidate articles → {len(selection.stories)} stories "
            f"({multi} reported more than once) → {len(items)} items",
            highlight=False,
        )
    else:
        out.print(f"{len(items)} items, as frozen when sending started", highlight=False)
    if plan.thin_reason:
        out.print(f"[yellow]Thin day:[/] {plan.thin_reason}", highlight=False)
    if selection is not None:
        for note in selection.notes:
            out.print(f"[dim]note: {note}[/]", highlight=False)
    if explain and selection is not None:
        print_explanation(selection, cfg)
        return
    table = Table(show_lines=False)
    for column in ("#", "section", "score", "story", "source", "title"):
        table.add_column(column, overflow="fold")
    for position, planned in enumerate(items, start=1):
        also = len(planned.item.also_reported_by)
        table.add_row(
            str(position) + (" 📌" if planned.pinned else ""),
            planned.item.section or "",
            f"{planned.score:.3f}",
            f"+{also} more report(s)" if also else "",
            escape(planned.item.source or ""),
            escape(planned.item.title),
        )
    out.print(table)
    if selection is not None:
        out.print(
            "[dim]`digest rank --explain` shows each candidate's score by signal, its story "
            "and why the others are left out.[/]"
        )


_SHORT = {
    "duplicate": "duplicate",
    "below_threshold": "below min_score",
    "source_cap": "source cap",
    "topic_cap": "topic cap",
    "already_sent": "already sent",
    "story_sent": "story sent",
    "dropped": "dropped by editor",
    "outranked": "outranked",
    "thin_day": "thin day",
    "muted_source": "muted source",
    "other_topics": "other topics",
    "excluded_title": "advert/paywall title",
}


_SIGNAL_LABELS = {
    "recency": "recency",
    "priority": "priority",
    "popularity": "popularity",
    "coverage": "coverage",
    "source_weight": "source",
    "topic_weight": "topic",
    "novelty": "updated",
    "editor_boost": "editor",
}


def _duration(value: timedelta) -> str:
    hours, seconds = divmod(int(value.total_seconds()), 3600)
    return f"{hours} h" + (f" {seconds // 60} min" if seconds else "")


def print_explanation(selection: EditionSelection, cfg: Settings) -> None:
    rows = explain_rows(selection)
    table = Table(show_lines=True)
    for column in ("id", "result", "score = points by signal × factors", "story", "source · title"):
        table.add_column(column, overflow="fold")
    table.add_column("why", overflow="fold", ratio=1)
    for row in rows:
        parts = row.contributions
        breakdown = " + ".join(
            f"{_SIGNAL_LABELS[name]} {parts.get(name, 0):.2f}"
            for name in ("recency", "priority", "popularity", "coverage")
            if parts.get(name, 0) or name == "recency"
        )
        factors = " ".join(
            f"×{row.signals[name]:g} {_SIGNAL_LABELS[name]}"
            for name in ("source_weight", "topic_weight", "novelty", "editor_boost")
            if row.signals.get(name, 1.0) != 1.0
        )
        if row.status == "selected":
            result = f"[green]#{row.position}[/] {row.section}"
            why = "; ".join(
                part
                for part in (
                    "also reported by " + ", ".join(str(i) for i in row.also_reported_by)
                    if row.also_reported_by
                    else "",
                    row.note or "",
                )
                if part
            )
        else:
            assert row.reason is not None
            result = f"[red]out[/]: {_SHORT.get(str(row.reason.kind), str(row.reason.kind))}"
            why = row.reason.detail
        if row.date_note is not None:
            why = f"{why}; {row.date_note}" if why else row.date_note
        story = f"S{row.story_id}" + (f" ({row.story_size} reports)" if row.story_size > 1 else "")
        table.add_row(
            str(row.article_id),
            result,
            f"[bold]{row.score:.3f}[/] = {breakdown}" + (f" ({factors})" if factors else ""),
            story,
            f"{escape(row.source or '-')} · {escape(row.title)}"
            f"\n[dim]topics: {escape(row.describe_topics())}[/]",
            escape(why),
        )
    out.print(table)
    unmapped = unmapped_categories(selection)
    if unmapped:
        out.print(
            "[bold]Categories that reach none of newsletter.topics[/] (map them with "
            "topics.aliases in the config): "
            + ", ".join(f"{escape(name)} ({count})" for name, count in unmapped),
            highlight=False,
        )
    clusters = [cluster for cluster in selection.stories if len(cluster.members) > 1]
    if clusters:
        out.print("[bold]Stories reported more than once[/] (article id and source, best first)")
        for cluster in clusters:
            members = ", ".join(
                f"{m.candidate.id} ({m.candidate.source or '-'})" for m in cluster.members
            )
            out.print(f"  S{cluster.id}: {members}", highlight=False)
    config = editions.ranking_config(cfg)
    out.print(
        "[dim]score = (recency + priority + popularity + coverage) × source weight × topic "
        "weight × novelty × editor boost; each part is shown in points, factors applied. "
        f"recency halves every {_duration(cfg.ranking.half_life)}; priority adds "
        f"{config.priority_weight:g} per point; coverage adds {config.coverage_weight:g} per "
        "doubling of the sources reporting the story; a story is shown once, by its best "
        "report, and the others are linked as 'also reported by'.[/]",
        highlight=False,
    )
