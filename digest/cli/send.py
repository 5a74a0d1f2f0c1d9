"""Edition commands: render, send, cancel, status."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from digest import pipeline, stats
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
