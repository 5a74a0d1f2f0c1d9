"""`digest ingest`: store articles from files, feeds and pages."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from digest import ingest
from digest.cli.common import (
    JsonOption,
    app,
    database,
    err,
    now,
    out,
    print_json,
    settings,
)
from digest.errors import InputError

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
