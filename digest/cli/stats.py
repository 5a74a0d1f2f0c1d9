"""`digest stats`: what happened to an edition after it was sent."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from digest import stats
from digest.cli.common import JsonOption, app, database, out, print_json


@app.command("stats")
def stats_command(
    edition: Annotated[
        str | None,
        typer.Argument(help="Edition date (YYYY-MM-DD) or id \\[default: the latest edition]."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="How many clicked links to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Show an edition's numbers: sent, failed, delivered, opened, clicked, bounced...

    Provider events count each subscriber once; rates are relative to the emails sent.

    Example: digest stats 2026-11-25 --json
    """
    with database() as db, db.session() as session:
        result = stats.edition_stats(session, edition, top=top)
    if result is None:
        if as_json:
            print_json(None)
        else:
            out.print("No editions yet: `digest send` (or `digest demo`) creates the first one.")
        return
    if as_json:
        sent_at = result.sent_at.isoformat() if result.sent_at else None
        print_json(asdict(result) | {"sent_at": sent_at, "rates": result.rates})
    else:
        print_stats(result)


def print_stats(result: stats.EditionStats) -> None:
    sent_at = f", sent {result.sent_at:%Y-%m-%d %H:%M} UTC" if result.sent_at else ""
    table = Table(
        title=f"Edition {result.newsletter_date} (id {result.edition_id}, {result.status}{sent_at})"
    )
    table.add_column("")
    table.add_column("subscribers", justify="right")
    table.add_column("of sent", justify="right")
    for name in ("sent", "failed", "uncertain"):
        table.add_row(name, str(getattr(result, name)), "")
    for name in stats.EVENTS:
        rate = result.rate(getattr(result, name))
        table.add_row(name, str(getattr(result, name)), f"{rate:.1%}" if rate is not None else "–")
    out.print(table)
    if result.uncertain:
        out.print(
            f"{result.uncertain} uncertain: their send was interrupted, they may have the email."
        )
    if not result.top_links:
        return
    links = Table(title="Top clicked links")
    links.add_column("subscribers", justify="right")
    links.add_column("clicks", justify="right")
    links.add_column("url", overflow="fold")
    for link in result.top_links:
        links.add_row(str(link.subscribers), str(link.clicks), Text(link.url))
    out.print(links)
