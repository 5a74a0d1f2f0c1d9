"""What every command shares: the Typer app, consoles, options, settings and database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from digest import pipeline
from digest.config import Settings, default_config_path, load_settings
from digest.store.db import Database

EXIT_INCOMPLETE = 3
"""`digest send` exit code when recipients are left (failed, to retry, or uncertain)."""

out = Console(soft_wrap=True)
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
edition_app = typer.Typer(
    help="Editor decisions for an edition before it is sent: pin, boost or drop an article.",
    no_args_is_help=True,
)
app.add_typer(edition_app, name="edition")


class _State:
    def __init__(self) -> None:
        self.config_path: Path | None = None
        self.verbose = False
        self.settings: Settings | None = None
        # Every command reads the time through now(); tests replace the clock to run a
        # command at a chosen moment (after midnight, around the send time, in DST...).
        self.clock: Callable[[], datetime] = pipeline.utc_now


state = _State()

DateOption = Annotated[
    str | None,
    typer.Option(
        "--date", "-d", help="Newsletter date: YYYY-MM-DD, today or tomorrow \\[default: today]."
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
            "\\[default: $DIGEST_CONFIG, else ./config.yaml, else embedded defaults].",
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
    return state.clock()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=_json_default, ensure_ascii=False))
