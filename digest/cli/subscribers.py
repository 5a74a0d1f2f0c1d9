"""`digest subscribers ...`: add, import, list, remove."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from digest import subscribers
from digest.cli.common import JsonOption, database, err, now, out, print_json, subscribers_app

# --------------------------------------------------------------------------- subscribers


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
        Path, typer.Argument(help="CSV with a header: email[,name,language,timezone].")
    ],
    as_json: JsonOption = False,
) -> None:
    """Import subscribers from CSV; bad rows are reported, the rest imported.

    Addresses that unsubscribed or bounced stay suppressed.

    Example: digest subscribers import subscribers.csv
    """
    with database() as db, db.session() as session:
        report = subscribers.import_csv(session, file, now=now())
    if as_json:
        print_json(asdict(report) | {"problems": [str(p) for p in report.problems]})
    else:
        for problem in report.problems:
            err.print(f"[yellow]skipped[/] {file.name} {problem}", highlight=False)
        out.print(
            f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.suppressed} left suppressed, {len(report.problems)} problem(s)"
        )
    if report.problems:
        raise typer.Exit(1)


@subscribers_app.command("list")
def subscribers_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only this status (active, unsubscribed, bounced)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List subscribers.

    Example: digest subscribers list --status active --json
    """
    with database() as db, db.session() as session:
        rows = [
            {
                "email": s.email,
                "name": s.name,
                "language": s.language,
                "timezone": s.timezone,
                "status": s.status,
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
            row["email"],
            row["name"] or "",
            row["language"] or "",
            row["timezone"] or "",
            str(row["status"]),
            str(row["created_at"])[:10],
        )
    out.print(table)


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
