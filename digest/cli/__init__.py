"""The ``digest`` command: thin Typer commands over the library.

Every command loads and validates the configuration, calls one library
function, and prints the result (a Rich table, or JSON with ``--json``). A
:class:`~digest.errors.DigestError` becomes one line on stderr and exit code 1;
``--verbose`` adds the traceback.
"""

from __future__ import annotations

import sys

from sqlalchemy.exc import OperationalError

# Importing the command modules registers their commands on the app.
from digest.cli import editor, ingest, rank, send, service, stats, subscribers
from digest.cli.common import EXIT_INCOMPLETE, app, err, state
from digest.errors import DigestError

__all__ = [
    "EXIT_INCOMPLETE",
    "app",
    "editor",
    "ingest",
    "main",
    "rank",
    "send",
    "service",
    "state",
    "stats",
    "subscribers",
]

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
