"""The ``digest`` command: thin Typer commands over the library.

Every command loads and validates the configuration, calls one library
function, and prints the result (a Rich table, or JSON with ``--json``). A
:class:`~digest.errors.DigestError` becomes one line on stderr and exit code 1;
``--verbose`` adds the traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError

from digest import editions, ingest, pipeline, subscribers
from digest.config import Settings, default_config_path, load_settings
from digest.delivery.send import SendReport
from digest.errors import DigestError
from digest.store.db import Database

EXIT_INCOMPLETE = 3
"""`digest send` exit code when recipients are left (failed, to retry, or uncertain)."""

out = Console()
# Errors stay on one line whatever the terminal width, so scripts can grep them.
err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(
    name="digest",
    help="Daily newsletter digests: ingest articles, rank them, render one email, deliver it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
subscribers_app = typer.Typer(help="Manage subscribers.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")


class _State:
    config_path: Path | None = None
    verbose: bool = False
    settings: Settings | None = None


state = _State()

DateOption = Annotated[
    str | None,
    typer.Option(
        "--date", "-d", help="Newsletter date: YYYY-MM-DD, today or tomorrow [default: today]."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def _options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="YAML config file "
            "[default: $DIGEST_CONFIG, else ./config.yaml, else embedded defaults].",
            dir_okay=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log more; show tracebacks.")
    ] = False,
) -> None:
    state.config_path = config if config is not None else default_config_path()
    state.verbose = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def settings() -> Settings:
    if state.settings is None:
        state.settings = load_settings(state.config_path)
    return state.settings


@contextmanager
def database() -> Iterator[Database]:
    db = pipeline.open_database(settings())
    try:
        yield db
    finally:
        db.dispose()


def now() -> datetime:
    return datetime.now(UTC)


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str, ensure_ascii=False))


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]Error:[/] {message}", highlight=False)
    raise typer.Exit(1)


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
        _print_ingest(report)
    if report.problems:
        raise typer.Exit(1)


def _print_ingest(report: ingest.IngestReport) -> None:
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


@app.command("send")
def send_command(
    date_: DateOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send and record nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Send an edition to every active subscriber who does not have it yet.

    Running it again for the same edition sends nothing and says so. Exit code 0
    when everyone has it, 3 when some recipients failed (run again to retry) or
    are uncertain.

    Example: digest send --date 2026-11-25
    """
    cfg = settings()
    newsletter_date = pipeline.resolve_date(date_, cfg, now())
    with database() as db:
        if as_json or not out.is_terminal:
            report = pipeline.send(db, cfg, newsletter_date, dry_run=dry_run)
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
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    if as_json:
        print_json(asdict(report) | {"complete": report.complete})
    else:
        _print_send(report, cfg)
    if not report.complete:
        raise typer.Exit(EXIT_INCOMPLETE)


def _print_send(report: SendReport, cfg: Settings, *, where: bool = True) -> None:
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
    if report.sent == 0 and report.failed == 0 and report.uncertain == 0:
        out.print(
            f"Nothing to send: all {report.already_sent} active subscriber(s) "
            "already have this edition."
        )
        return
    out.print(
        f"Sent {report.sent} via {cfg.delivery.backend}; {report.already_sent} already had it; "
        f"{report.failed} failed; {report.skipped} skipped."
    )
    if where and cfg.delivery.backend == "outbox" and report.sent:
        out.print(f"Emails are in {cfg.outbox_dir / report.newsletter_date.isoformat()}")
    if report.failed:
        out.print("Run `digest send` again to retry the failed recipients.")
    if report.uncertain:
        out.print(
            f"{report.uncertain} recipient(s) were being sent to when an earlier run stopped; "
            "they are not resent automatically because they may already have the email."
        )


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


# --------------------------------------------------------------------------- run, preview, serve


@app.command("run")
def run_command() -> None:
    """Run the scheduler: send each day's edition at schedule.send_time. Stop with Ctrl-C.

    Example: digest --config config.yaml run
    """
    from digest import scheduler

    cfg = settings()
    with database():
        pass  # migrate before the scheduler's job store touches the database
    logging.getLogger("digest").setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.INFO)
    time = cfg.schedule.send_time.strftime("%H:%M")
    out.print(
        f"Scheduler started: daily at {time} {cfg.newsletter.timezone}. Press Ctrl-C to stop."
    )
    scheduler.run(cfg, state.config_path)
    out.print("Scheduler stopped.")


def _serve(port: int | None, host: str | None, newsletter_date: str | None, path: str) -> None:
    import uvicorn

    from digest.web import create_app

    cfg = settings()
    web_app = create_app(cfg, preview_date=newsletter_date)
    bind_host = host or cfg.web.host
    bind_port = port or cfg.web.port
    out.print(f"Serving on http://{bind_host}:{bind_port}{path} (Ctrl-C to stop)")
    uvicorn.run(
        web_app, host=bind_host, port=bind_port, log_level="info" if state.verbose else "warning"
    )


PortOption = Annotated[int | None, typer.Option("--port", "-p", help="Port [default: web.port].")]
HostOption = Annotated[str | None, typer.Option("--host", help="Interface [default: web.host].")]


@app.command("preview")
def preview_command(
    port: PortOption = None, host: HostOption = None, date_: DateOption = None
) -> None:
    """Serve the next edition in the browser, with subject, preheader and text beside the HTML.

    Nothing is sent or frozen; reload the page after ingesting to see changes.

    Example: digest preview --port 8001
    """
    _serve(port, host, date_, "/")


@app.command("serve")
def serve_command(port: PortOption = None, host: HostOption = None) -> None:
    """Run the web app: unsubscribe and preferences pages, and the preview.

    Example: digest serve --host 0.0.0.0 --port 8000
    """
    _serve(port, host, None, "/")


# --------------------------------------------------------------------------- config, demo


@app.command("config")
def config_command(as_json: JsonOption = False) -> None:
    """Validate the configuration and print the effective values (secrets never shown).

    Example: DIGEST__RANKING__MAX_ITEMS=8 digest config
    """
    cfg = settings()
    data = cfg.model_dump(mode="json")
    secrets_state = {
        "SENDGRID_API_KEY": "set" if cfg.sendgrid_api_key else "not set",
        "DIGEST_SECRET_KEY": "set" if cfg.secret_key else "not set",
    }
    if as_json:
        print_json({"source": cfg.source, "settings": data, "secrets": secrets_state})
        return
    import yaml

    out.print(f"# from {cfg.source}", highlight=False)
    out.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), highlight=False)
    out.print(
        f"# secrets: {', '.join(f'{k} {v}' for k, v in secrets_state.items())}", highlight=False
    )


@app.command("demo")
def demo_command() -> None:
    """Load the shipped sample articles and subscribers and run today's job once.

    The samples are dated relative to now, so there is always a full edition.
    With the default config the emails land in var/outbox/ and the preview in var/preview/.

    Example: digest demo
    """
    from digest import samples

    cfg = settings()
    moment = now()
    with database() as db:
        with tempfile.TemporaryDirectory(prefix="digest-samples-") as tmp:
            files = samples.write_samples(Path(tmp), now=moment, base_url=cfg.newsletter.base_url)
            report = ingest.ingest(
                [str(f) for f in files], db, now=moment, default_tz=cfg.newsletter.tz
            )
        _print_ingest(report)
        with db.session() as session:
            imported = subscribers.import_csv(
                session, samples.subscribers_csv(), now=moment, source="sample"
            )
        out.print(
            f"Sample subscribers: {imported.added} added, "
            f"{imported.unchanged + imported.updated} already there"
        )
        newsletter_date = editions.local_date(moment, cfg)
        sent = pipeline.send(db, cfg, newsletter_date, clock=now)
        _print_send(sent, cfg, where=False)
        draft = pipeline.draft(db, cfg, newsletter_date, moment)
    preview_dir = cfg.path(cfg.render.preview_dir) / newsletter_date.isoformat()
    pipeline.write_rendered(pipeline.preview_personalized(cfg, draft.rendered), preview_dir)
    out.print()
    if cfg.delivery.backend == "outbox":
        out.print(f"[bold]Emails:[/]  {cfg.outbox_dir / newsletter_date.isoformat()}")
    out.print(f"[bold]Preview:[/] {preview_dir / 'digest.html'}  (plain text: digest.txt)")
    out.print(
        "Or serve it: `digest preview`, then open " + f"http://{cfg.web.host}:{cfg.web.port}/"
    )


# --------------------------------------------------------------------------- entry point


def main() -> None:
    """Console entry point: one line per user error, never a traceback unless --verbose."""
    try:
        app(standalone_mode=True)
    except DigestError as error:
        if state.verbose:
            err.print_exception()
        err.print(f"[bold red]Error:[/] {error.message}", highlight=False)
        if error.hint:
            err.print(f"[dim]Hint: {error.hint}[/]", highlight=False)
        sys.exit(1)
    except OperationalError as error:
        if state.verbose:
            err.print_exception()
        err.print(f"[bold red]Error:[/] database error: {error.orig}", highlight=False)
        err.print("[dim]Hint: check database.url and that the database server is running[/]")
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("Interrupted.")
        sys.exit(130)
