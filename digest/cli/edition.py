"""Edition commands: ingest, rank, render, send."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
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

# --------------------------------------------------------------------------- ingest


@app.command("ingest")
def ingest_command(
    sources: Annotated[
        list[str],
        typer.Argument(help="JSON/JSONL files, RSS/Atom feeds, HTML pages: paths or URLs."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Store articles from files, feeds and pages; re-ingesting updates instead of duplicating.

    Example: digest ingest articles.jsonl https://example.com/feed.xml page.html
    """
    with database() as db:
        report = ingest.ingest(sources, db, now=now(), default_tz=settings().newsletter.tz)
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


# --------------------------------------------------------------------------- rank


@app.command("rank")
def rank_command(date_: DateOption = None, as_json: JsonOption = False) -> None:
    """List the articles of an edition with their scores.

    Example: digest rank --date tomorrow --json
    """
    cfg = settings()
    moment = now()
    newsletter_date = pipeline.resolve_date(date_, cfg, moment)
    with database() as db, db.session() as session:
        plan = editions.plan(session, cfg, newsletter_date, moment)
    rows = [
        {
            "position": position,
            "score": round(planned.score, 4),
            "signals": {k: round(v, 4) for k, v in planned.signals.items()},
            "title": planned.item.title,
            "source": planned.item.source,
            "published_at": planned.item.published_at.isoformat(),
            "url": planned.item.url,
            "article_id": planned.article_id,
        }
        for position, planned in enumerate(plan.items, start=1)
    ]
    if as_json:
        print_json(
            {
                "date": newsletter_date.isoformat(),
                "frozen": plan.frozen,
                "window": [plan.window_start.isoformat(), plan.cutoff.isoformat()],
                "candidates": plan.candidates,
                "items": rows,
            }
        )
        return
    tz = cfg.newsletter.tz
    table = Table(
        title=f"Edition {newsletter_date} ({'frozen' if plan.frozen else 'draft'}): "
        f"{len(plan.items)} of {plan.candidates} candidates, "
        f"{plan.window_start.astimezone(tz):%d.%m. %H:%M} – "
        f"{plan.cutoff.astimezone(tz):%d.%m. %H:%M}"
    )
    for column in (
        "#",
        "score",
        "recency",
        "priority",
        "source weight",
        "published",
        "source",
        "title",
    ):
        table.add_column(column, overflow="fold")
    for position, planned in enumerate(plan.items, start=1):
        signals = planned.signals
        table.add_row(
            str(position),
            f"{planned.score:.3f}",
            f"{signals.get('recency', 0):.3f}",
            f"{signals.get('priority', 0):g}",
            f"{signals.get('source_weight', 1):g}",
            f"{planned.item.published_at.astimezone(tz):%d.%m. %H:%M}",
            planned.item.source or "",
            planned.item.title,
        )
    out.print(table)


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
        counts = ledger.counts(db, edition_id)
    left = counts["pending"] + counts["uncertain"] + counts["in_flight"]
    if as_json:
        print_json(
            {"edition_id": edition_id, "date": day.isoformat(), "status": state, "counts": counts}
        )
    else:
        table = Table(title=f"Edition {day} (id {edition_id}): {state}")
        table.add_column("state")
        table.add_column("recipients", justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count))
        out.print(table)
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
    head = f"Edition {report.newsletter_date} ({report.items} items): {report.subject}"
    out.print(head, highlight=False)
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
