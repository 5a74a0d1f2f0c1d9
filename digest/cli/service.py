"""Long-running and set-up commands: run, preview, serve, config, demo."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from digest import editions, ingest, pipeline, subscribers
from digest.cli.common import (
    DateOption,
    JsonOption,
    app,
    database,
    now,
    out,
    print_json,
    settings,
    state,
)
from digest.cli.ingest import print_ingest
from digest.cli.send import print_send
from digest.config import Settings

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
    web_app = create_app(cfg, preview_date=newsletter_date, clock=now)
    bind_host = host or cfg.web.host
    bind_port = port or cfg.web.port
    out.print(f"Serving on http://{bind_host}:{bind_port}{path} (Ctrl-C to stop)")
    uvicorn.run(
        web_app,
        host=bind_host,
        port=bind_port,
        log_level="info" if state.verbose else "warning",
        # Behind a reverse proxy: take the client's address (sign-up consent
        # record, rate limit) and scheme from X-Forwarded-* of trusted proxies only.
        proxy_headers=True,
        forwarded_allow_ips=cfg.web.forwarded_allow_ips,
    )


PortOption = Annotated[int | None, typer.Option("--port", "-p", help="Port \\[default: web.port].")]
HostOption = Annotated[str | None, typer.Option("--host", help="Interface \\[default: web.host].")]


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
    unmapped, problem = _unmapped_categories(cfg)
    if as_json:
        print_json(
            {
                "source": cfg.source,
                "settings": data,
                "secrets": secrets_state,
                "unmapped_categories": [{"category": n, "articles": c} for n, c in unmapped],
            }
        )
        return
    import yaml

    out.print(f"# from {cfg.source}", highlight=False)
    out.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), highlight=False)
    out.print(
        f"# secrets: {', '.join(f'{k} {v}' for k, v in secrets_state.items())}", highlight=False
    )
    if problem:
        out.print(f"# stored categories not checked: {problem}", highlight=False)
    elif unmapped:
        out.print(
            f"# categories of the last {CATEGORY_DAYS} days that reach none of newsletter.topics "
            "(map them in topics.aliases): "
            + ", ".join(f"{name} ({count})" for name, count in unmapped),
            highlight=False,
        )


# How far back `digest config` looks for stored categories that map to no topic.
CATEGORY_DAYS = 30


def _unmapped_categories(cfg: Settings) -> tuple[list[tuple[str, int]], str | None]:
    """Stored categories of recent articles that reach no topic, or why they were not read.

    A SQLite file that does not exist yet is not created just to find out.
    """
    from sqlalchemy.engine import make_url

    from digest.errors import DigestError
    from digest.store import ranking as store_ranking

    url = make_url(cfg.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return [], None
    try:
        with database() as db, db.session() as session:
            counts = store_ranking.recent_categories(session, now() - timedelta(days=CATEGORY_DAYS))
    except DigestError as error:
        return [], error.message
    return editions.topic_mapper(cfg).unmapped(counts), None


@app.command("demo")
def demo_command() -> None:
    """Load the shipped sample articles and subscribers and run today's job once.

    The samples are dated back from the edition's cutoff (its send time, or now
    before that), so there is a full edition whatever the time of day.
    With the default config the emails land in var/outbox/ and the preview in var/preview/.

    Example: digest demo
    """
    from digest import samples

    cfg = _demo_settings(settings())
    moment = now()
    with database() as db:
        newsletter_date = editions.local_date(moment, cfg)
        # Dated back from the edition's cutoff, not from now: after the send time
        # the window ends at the send time, and samples dated from now would
        # partly fall after it (a short edition that depends on the hour).
        _start, cutoff = editions.window(newsletter_date, cfg, moment)
        with tempfile.TemporaryDirectory(prefix="digest-samples-") as tmp:
            files = samples.write_samples(Path(tmp), now=cutoff, base_url=cfg.newsletter.base_url)
            report = ingest.ingest(
                [str(f) for f in files], db, now=moment, default_tz=cfg.newsletter.tz
            )
        print_ingest(report)
        with db.session() as session:
            imported = subscribers.import_csv(
                session, samples.subscribers_csv(), now=moment, source="sample"
            )
        out.print(
            f"Sample subscribers: {imported.added} added, "
            f"{imported.unchanged + imported.updated} already there"
        )
        sent = pipeline.send(db, cfg, newsletter_date, clock=now)
        print_send(sent, cfg, where=False)
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


def _demo_settings(cfg: Settings) -> Settings:
    """The settings for the demo's own run: the sample publisher is an own source.

    Only the demo's edition sees it; other commands keep the configured list
    (empty by default), as they would with a real publisher's articles.
    """
    from digest import samples

    own = list(dict.fromkeys([*cfg.ranking.own_sources, samples.PUBLISHER]))
    return cfg.model_copy(update={"ranking": cfg.ranking.model_copy(update={"own_sources": own})})
