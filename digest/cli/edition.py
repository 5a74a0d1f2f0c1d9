"""Edition commands: ingest, rank, render, send."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from digest import editions, ingest, pipeline, stats
from digest.cli.common import (
    EXIT_INCOMPLETE,
    DateOption,
    JsonOption,
    app,
    database,
    err,
    now,
    out,
    print_json,
    settings,
)
from digest.config import Settings
from digest.delivery import ledger
from digest.delivery.ledger import Resolution
from digest.delivery.send import SendReport
from digest.errors import InputError
from digest.rank import EditionSelection, explanation_dict, select_variant
from digest.rank import explain as explain_rows
from digest.rank.explain import unmapped_categories

# --------------------------------------------------------------------------- ingest


@app.command("ingest")
def ingest_command(
    sources: Annotated[
        list[str],
        typer.Argument(help="JSON/JSONL files, RSS/Atom feeds, HTML pages: paths or URLs."),
    ],
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="The site local files come from: resolves their relative links, and "
            "links pages and records that have none (base URL + file name for pages).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Store articles from files, feeds and pages; re-ingesting updates instead of duplicating.

    Example: digest ingest articles.jsonl https://example.com/feed.xml page.html
    """
    if base_url is not None and not ingest.is_http_url(base_url):
        raise InputError(
            f"--base-url {base_url!r} is not an http(s) URL",
            hint="give the site's address, e.g. --base-url https://www.example.com/news/",
        )
    with database() as db:
        report = ingest.ingest(
            sources, db, now=now(), default_tz=settings().newsletter.tz, base_url=base_url
        )
    if as_json:
        print_json(asdict(report) | {"problems": [str(p) for p in report.problems]})
    else:
        print_ingest(report)
    if report.problems:
        raise typer.Exit(1)


def print_ingest(report: ingest.IngestReport) -> None:
    for problem in report.problems:
        err.print(f"[yellow]skipped[/] {problem}", highlight=False)
    out.print(
        f"{report.sources} source(s): {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.problems)} problem(s)"
    )
    fallbacks = [
        (report.estimated_dates, "with an estimated date (no date of their own)"),
        (report.fallback_urls, "with a link found by fallback"),
        (report.derived_titles, "with a title taken from the text"),
    ]
    if any(count for count, _ in fallbacks):
        out.print(
            "stored "
            + ", ".join(f"{count} {what}" for count, what in fallbacks if count)
            + "; `digest rank --explain` shows which dates are estimates",
            highlight=False,
        )


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


# --------------------------------------------------------------------------- render


@app.command("render")
def render_command(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for digest.html, digest.txt, subject.txt.")
    ],
    date_: DateOption = None,
) -> None:
    """Render an edition to files without sending it.

    Example: digest render --out /tmp/edition
    """
    cfg = settings()
    moment = now()
    newsletter_date = pipeline.resolve_date(date_, cfg, moment)
    with database() as db:
        draft = pipeline.draft(db, cfg, newsletter_date, moment)
    paths = pipeline.write_rendered(pipeline.preview_personalized(cfg, draft.rendered), out_dir)
    out.print(
        f"Edition {newsletter_date}: {len(draft.plan.items)} items, "
        f"subject: {draft.rendered.subject}"
    )
    for path in paths:
        out.print(f"  wrote {path}")


# --------------------------------------------------------------------------- send


class ResolveChoice(StrEnum):
    resend = "resend"
    skip = "skip"


@app.command("send")
def send_command(
    date_: DateOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send and record nothing.")
    ] = False,
    resolve_uncertain: Annotated[
        ResolveChoice | None,
        typer.Option(
            "--resolve-uncertain",
            help="Decide about recipients whose email may or may not have gone out: "
            "resend them, or skip them for this edition.",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="SendGrid only: hand the messages over now and have SendGrid deliver them "
            "at this time (YYYY-MM-DDTHH:MM in newsletter.timezone, at most 72 h ahead).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send an edition to every active subscriber who does not have it yet.

    Safe to run again at any time, also after a crash: recipients who have the
    edition are never sent to again, the rest are sent. Exit code 0 when nothing
    is left, 3 when recipients are left (pending: run again; uncertain: decide
    with --resolve-uncertain), 1 on an error.

    Example: digest send --date 2026-11-25
    """
    cfg = settings()
    newsletter_date = pipeline.resolve_date(date_, cfg, now())
    send_at = _parse_at(at, cfg) if at else None
    resolve: Resolution | None = None
    if resolve_uncertain is not None:
        resolve = "resend" if resolve_uncertain is ResolveChoice.resend else "skip"
    with database() as db:
        if as_json or not out.is_terminal:
            report = pipeline.send(
                db,
                cfg,
                newsletter_date,
                clock=now,
                dry_run=dry_run,
                resolve_uncertain=resolve,
                send_at=send_at,
            )
        else:
            with Progress(
                TextColumn("Sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=out,
            ) as bar:
                task = bar.add_task("send", total=None)
                report = pipeline.send(
                    db,
                    cfg,
                    newsletter_date,
                    clock=now,
                    dry_run=dry_run,
                    resolve_uncertain=resolve,
                    send_at=send_at,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    if as_json:
        print_json(asdict(report) | {"complete": report.complete})
    else:
        print_send(report, cfg)
    if not report.complete:
        raise typer.Exit(EXIT_INCOMPLETE)


def _parse_at(value: str, cfg: Settings) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--at {value!r} is not a time like 2026-11-26T06:30") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=cfg.newsletter.tz)


@app.command("cancel")
def cancel_command(
    edition: Annotated[str, typer.Argument(help="Edition date (YYYY-MM-DD) or id.")],
) -> None:
    """Cancel an edition's scheduled send at SendGrid (made with `digest send --at`).

    SendGrid does not promise to stop messages less than 10 minutes before their time.

    Example: digest cancel 2026-11-26
    """
    with database() as db:
        with db.session() as session:
            found = stats.find_edition(session, edition)
            assert found is not None
            edition_id, day = found.id, found.newsletter_date
        held = pipeline.cancel(db, settings(), edition_id, now=now())
    out.print(f"Edition {day}: scheduled send cancelled ({held} recipient(s) will not get it).")


@app.command("status")
def status_command(
    edition: Annotated[
        str | None,
        typer.Argument(help="Edition date (YYYY-MM-DD) or id \\[default: the latest edition]."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show how many recipients of an edition are in each delivery state.

    pending: still to send; in_flight: being sent right now; accepted: taken by the
    provider; failed: refused for good; uncertain: may or may not have arrived
    (decide with `digest send --resolve-uncertain`); suppressed: left the list
    before it reached them. Exit code 3 while anything is pending or uncertain.

    Example: digest status 2026-11-25
    """
    with database() as db:
        with db.session() as session:
            found = stats.find_edition(session, edition)
            if found is None:
                out.print(
                    "No editions yet: `digest send` (or `digest demo`) creates the first one."
                )
                return
            edition_id, day, state = found.id, found.newsletter_date, found.status
            thin = found.thin_reason
        counts = ledger.counts(db, edition_id)
    left = counts["pending"] + counts["uncertain"] + counts["in_flight"]
    if as_json:
        print_json(
            {
                "edition_id": edition_id,
                "date": day.isoformat(),
                "status": state,
                "thin_day": thin,
                "counts": counts,
            }
        )
    else:
        table = Table(title=f"Edition {day} (id {edition_id}): {state}")
        table.add_column("state")
        table.add_column("recipients", justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count))
        out.print(table)
        if thin:
            out.print(f"[yellow]Thin day:[/] {thin}", highlight=False)
        if counts["uncertain"]:
            out.print(
                f"{counts['uncertain']} uncertain: `digest send --date {day} "
                "--resolve-uncertain resend` sends them again, `... skip` gives them up."
            )
    if left:
        raise typer.Exit(EXIT_INCOMPLETE)


def print_send(report: SendReport, cfg: Settings, *, where: bool = True) -> None:
    for problem in report.errors:
        err.print(f"[yellow]failed[/] {problem}", highlight=False)
    if report.edition_skipped:
        what = "would be skipped" if report.dry_run else "skipped: nothing was sent"
        out.print(
            f"Edition {report.newsletter_date} {what}. Thin day: {report.thin_day}",
            highlight=False,
        )
        out.print(
            "[dim]Lower ranking.min_items or set ranking.thin_day: shorten to send short "
            "editions; pin articles with `digest edition pin` to add them.[/]"
        )
        return
    head = f"Edition {report.newsletter_date} ({report.items} items): {report.subject}"
    out.print(head, highlight=False)
    if report.thin_day:
        out.print(f"[yellow]Thin day:[/] {report.thin_day}", highlight=False)
    if report.dry_run:
        out.print(
            f"Dry run: would send to {report.audience} active subscriber(s); "
            "nothing sent or recorded."
        )
        return
    if (
        report.sent == 0
        and report.failed == 0
        and report.pending == 0
        and report.uncertain == 0
        and report.waiting == 0
    ):
        out.print(
            f"Nothing to send: all {report.already_sent} active subscriber(s) "
            "already have this edition."
        )
        return
    out.print(
        f"Sent {report.sent} via {cfg.delivery.backend}; {report.already_sent} already had it; "
        f"{report.failed} failed; {report.pending} left; {report.skipped} skipped."
    )
    if where and cfg.delivery.backend == "outbox" and report.sent:
        out.print(f"Emails are in {cfg.outbox_dir / report.newsletter_date.isoformat()}")
    if report.waiting:
        out.print(
            f"{report.waiting} subscriber(s) chose a later delivery time: `digest run` sends "
            "to them at that time (or run `digest send` again then)."
        )
    if report.resolved:
        out.print(f"{report.resolved} uncertain recipient(s) resolved.")
    if report.failed:
        out.print(f"{report.failed} refused for good (see above); they are not retried.")
    if report.pending:
        out.print(
            f"{report.pending} could not be sent now (see above); run `digest send` again "
            "to send them."
        )
    if report.uncertain:
        out.print(
            f"{report.uncertain} recipient(s) may or may not have the email (an earlier run "
            "stopped, or the provider did not answer). They are not resent automatically: "
            "provider events resolve them, or decide with `digest send --resolve-uncertain "
            "resend|skip`."
        )
