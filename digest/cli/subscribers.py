"""`digest subscribers ...`: add, import, export, list, show, remove."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from digest import subscribers
from digest.cli.common import (
    JsonOption,
    database,
    err,
    now,
    out,
    print_json,
    settings,
    subscribers_app,
)
from digest.errors import InputError
from digest.store.models import SubscriberStatus

STATUSES = ", ".join(s.value for s in SubscriberStatus)

StatusOption = Annotated[
    str | None, typer.Option("--status", help=f"Only this status ({STATUSES}).")
]

# --------------------------------------------------------------------------- add, import, export


@subscribers_app.command("add")
def subscribers_add(
    email: Annotated[str, typer.Argument(help="Email address.")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="Display name.")] = None,
    language: Annotated[str | None, typer.Option("--language", "-l", help="de or en.")] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", "-t", help="IANA time zone.")
    ] = None,
    resubscribe: Annotated[
        bool,
        typer.Option("--resubscribe", help="Re-activate an address that unsubscribed or bounced."),
    ] = False,
) -> None:
    """Add a subscriber (or update one), confirmed and active at once.

    Example: digest subscribers add anna@example.com --name Anna --language de
    """
    with database() as db, db.session() as session:
        subscriber, outcome = subscribers.add(
            session,
            email,
            now=now(),
            name=name,
            language=language,
            timezone=timezone,
            resubscribe=resubscribe,
        )
        address = subscriber.email
    out.print(f"{address}: {outcome}", highlight=False)


@subscribers_app.command("import")
def subscribers_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header: email, and any of the export's columns "
            "(name, language, timezone, topics, status, consent_at...)."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Import subscribers from CSV; bad rows are reported, the rest imported.

    New addresses keep the file's status and consent record (an export's
    columns); without them the consent record says "imported from FILE now".
    Addresses already here keep their consent record and are never re-activated.

    Example: digest subscribers import subscribers.csv
    """
    topics = settings().newsletter.topics
    with database() as db, db.session() as session:
        report = subscribers.import_csv(session, file, now=now(), allowed_topics=topics)
    if as_json:
        print_json(asdict(report) | {"problems": [str(p) for p in report.problems]})
    else:
        for problem in report.problems:
            err.print(f"[yellow]skipped[/] {file.name} {problem}", highlight=False)
        inactive = f" ({report.inactive} not active)" if report.inactive else ""
        out.print(
            f"{report.added} added{inactive}, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.suppressed} left suppressed, "
            f"{len(report.problems)} problem(s)"
        )
    if report.problems:
        raise typer.Exit(1)


@subscribers_app.command("export")
def subscribers_export(
    file: Annotated[
        Path | None, typer.Argument(help="CSV file to write \\[default: standard output].")
    ] = None,
    status: StatusOption = None,
) -> None:
    """Export subscribers with their consent records as CSV (streamed, any number of rows).

    Columns: email, name, language, timezone, topics (separated by |),
    delivery_time, status, status_reason, source, created_at, unsubscribed_at,
    consent_at, consent_ip, consent_source, consent_text, confirmed_at,
    confirmed_ip; times in ISO 8601, UTC. `digest subscribers import` reads it back.

    Example: digest subscribers export subscribers.csv --status active
    """
    subscribers.check_status(status)
    with database() as db, db.session() as session:
        if file is None:
            try:
                subscribers.export_csv(session, sys.stdout, status=status)
                sys.stdout.flush()
            except BrokenPipeError:
                # Piped into `head` and the like: stop quietly, as other tools do.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(1) from None
            return
        # Written beside the target and moved in place, so a failed export
        # never leaves a truncated file behind under the real name.
        part = file.with_name(file.name + ".part")
        try:
            with part.open("w", encoding="utf-8", newline="") as handle:
                count = subscribers.export_csv(session, handle, status=status)
            part.replace(file)
        except OSError as error:
            part.unlink(missing_ok=True)
            raise InputError(f"cannot write {file}: {error.strerror}") from None
    out.print(f"{count} subscriber(s) written to {file}", highlight=False)


# --------------------------------------------------------------------------- list, show


@subscribers_app.command("list")
def subscribers_list(status: StatusOption = None, as_json: JsonOption = False) -> None:
    """List subscribers.

    Example: digest subscribers list --status active --json
    """
    with database() as db, db.session() as session:
        rows: list[dict[str, Any]] = [
            {
                "email": s.email,
                "name": s.name,
                "language": s.language,
                "timezone": s.timezone,
                "topics": list(s.topics or []),
                "delivery_time": s.delivery_time,
                "status": s.status,
                "status_reason": s.status_reason,
                "source": s.source,
                "created_at": s.created_at.isoformat(),
            }
            for s in subscribers.list_all(session, status=status)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} subscriber(s)")
    for column in ("email", "name", "language", "timezone", "status", "since"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(
                Text(value or "")
                for value in (row["email"], row["name"], row["language"], row["timezone"])
            ),
            str(row["status"]),
            str(row["created_at"])[:10],
        )
    out.print(table)


@subscribers_app.command("show")
def subscribers_show(
    email: Annotated[str, typer.Argument(help="Email address.")],
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show the latest N deliveries and events.")
    ] = 30,
    as_json: JsonOption = False,
) -> None:
    """Show one subscriber: status, details, consent record, history, deliveries, events.

    Example: digest subscribers show anna@example.com --json
    """
    with database() as db, db.session() as session:
        profile = subscribers.profile(session, email, limit=limit)
    if as_json:
        print_json(_plain(asdict(profile)))
    else:
        print_profile(profile)


def _plain(value: Any) -> Any:
    """Dataclass fields as JSON values: times and dates in ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else ""


def print_profile(profile: subscribers.Profile) -> None:
    head = Text(f"{profile.email}: ", style="bold")
    head.append(f"{profile.status} since {_when(profile.status_since)}")
    if profile.status_reason:
        head.append(f" ({profile.status_reason})")
    out.print(head)

    facts = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    facts.add_column(style="dim")
    facts.add_column(overflow="fold")
    consent = profile.consent
    for label, value in (
        ("name", profile.name),
        ("language", profile.language),
        ("timezone", profile.timezone),
        ("topics", ", ".join(profile.topics) or "all"),
        ("delivery time", profile.delivery_time or "the newsletter's send time"),
        ("source", profile.source),
        ("created", _when(profile.created_at)),
        ("consent at", _when(consent.consent_at)),
        ("consent IP", consent.consent_ip),
        ("consent source", consent.consent_source),
        ("consent text", consent.consent_text),
        ("confirmation sent", _when(consent.confirmation_sent_at)),
        ("confirmed at", _when(consent.confirmed_at)),
        ("confirmed IP", consent.confirmed_ip),
    ):
        facts.add_row(label, Text(value or "–"))
    out.print(facts)

    history = Table(title="History", title_justify="left")
    for column in ("time", "event", "detail"):
        history.add_column(column, overflow="fold")
    for entry in profile.history:
        detail = ", ".join(f"{key}={value}" for key, value in entry.detail.items())
        history.add_row(_when(entry.occurred_at), entry.kind, Text(detail))
    out.print(history)

    deliveries = Table(
        title=f"Deliveries ({len(profile.deliveries)} of {profile.deliveries_total})",
        title_justify="left",
    )
    for column in ("edition", "status", "provider id", "error"):
        deliveries.add_column(column, overflow="fold")
    for d in profile.deliveries:
        deliveries.add_row(
            str(d.newsletter_date), d.status, Text(d.provider_message_id or ""), Text(d.error or "")
        )
    out.print(deliveries)

    events = Table(
        title=f"Provider events ({len(profile.events)} of {profile.events_total})",
        title_justify="left",
    )
    for column in ("time", "event", "url / reason"):
        events.add_column(column, overflow="fold")
    for e in profile.events:
        events.add_row(_when(e.occurred_at), e.event, Text(e.url or e.reason or ""))
    out.print(events)


# --------------------------------------------------------------------------- remove


@subscribers_app.command("remove")
def subscribers_remove(
    email: Annotated[str, typer.Argument(help="Email address.")],
    purge: Annotated[
        bool,
        typer.Option(
            "--purge", help="Delete the address and its history instead of unsubscribing it."
        ),
    ] = False,
) -> None:
    """Unsubscribe an address (kept as a suppression), or --purge it entirely.

    Example: digest subscribers remove anna@example.com
    """
    with database() as db, db.session() as session:
        subscriber = subscribers.remove(session, email, now=now(), purge=purge)
        address = subscriber.email
    out.print(f"{address}: {'deleted' if purge else 'unsubscribed'}", highlight=False)
