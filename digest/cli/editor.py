"""`digest edition pin|boost|drop|clear|list`: editor decisions before an edition freezes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from digest import editor, pipeline
from digest.cli.common import DateOption, JsonOption, database, edition_app, now, out, print_json
from digest.cli.common import settings as load
from digest.store.models import EditorAction

ArticleArgument = Annotated[
    str, typer.Argument(help="Article id (see `digest rank --explain`) or its URL.")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why, for the other editors.")]


def _decide(
    reference: str,
    action: EditorAction,
    date_: str | None,
    note: str | None,
    factor: float | None = None,
) -> None:
    cfg = load()
    moment = now()
    newsletter_date = pipeline.resolve_date(date_, cfg, moment)
    with database() as db, db.session() as session:
        decision = editor.decide(
            session, newsletter_date, reference, action, now=moment, factor=factor, note=note
        )
    if action is EditorAction.PIN:
        what = "pinned: it leads the edition whatever its score"
    elif action is EditorAction.BOOST:
        what = f"boosted: its score is multiplied by {decision.factor or 1:g}"
    else:
        what = "dropped: neither it nor another report of its story goes out"
    out.print(
        f"Article {decision.article_id} ({decision.source or '-'}: {decision.title}) {what} "
        f"in the edition of {newsletter_date}.",
        highlight=False,
    )
    out.print("[dim]See the result with `digest rank` or `digest preview`.[/]")


@edition_app.command("pin")
def pin_command(
    article: ArticleArgument, date_: DateOption = None, note: NoteOption = None
) -> None:
    """Put an article in the edition, ahead of everything, whatever its score or caps.

    Example: digest edition pin 42 --date tomorrow
    """
    _decide(article, EditorAction.PIN, date_, note)


@edition_app.command("boost")
def boost_command(
    article: ArticleArgument,
    factor: Annotated[
        float, typer.Option("--factor", "-f", help="Score multiplier, above 0 and at most 10.")
    ] = 1.5,
    date_: DateOption = None,
    note: NoteOption = None,
) -> None:
    """Multiply an article's score (1.5 by default; below 1 lowers it).

    Example: digest edition boost 42 --factor 2
    """
    _decide(article, EditorAction.BOOST, date_, note, factor)


@edition_app.command("drop")
def drop_command(
    article: ArticleArgument, date_: DateOption = None, note: NoteOption = None
) -> None:
    """Keep an article, and the other reports of its story, out of the edition.

    Example: digest edition drop https://example.com/news/story
    """
    _decide(article, EditorAction.DROP, date_, note)


@edition_app.command("clear")
def clear_command(article: ArticleArgument, date_: DateOption = None) -> None:
    """Remove the decision about an article: it is ranked like any other again.

    Example: digest edition clear 42
    """
    cfg = load()
    newsletter_date = pipeline.resolve_date(date_, cfg, now())
    with database() as db, db.session() as session:
        removed = editor.clear(session, newsletter_date, article)
    out.print(
        f"Decision about article {article} removed."
        if removed
        else f"There was no decision about article {article} for {newsletter_date}.",
        highlight=False,
    )


@edition_app.command("list")
def list_command(date_: DateOption = None, as_json: JsonOption = False) -> None:
    """The editor decisions for an edition.

    Example: digest edition list --date tomorrow
    """
    cfg = load()
    newsletter_date = pipeline.resolve_date(date_, cfg, now())
    with database() as db, db.session() as session:
        decisions = editor.decisions(session, newsletter_date)
    if as_json:
        print_json(
            [
                {
                    "date": d.newsletter_date.isoformat(),
                    "article_id": d.article_id,
                    "action": str(d.action),
                    "factor": d.factor,
                    "title": d.title,
                    "source": d.source,
                    "note": d.note,
                }
                for d in decisions
            ]
        )
        return
    if not decisions:
        out.print(f"No editor decisions for the edition of {newsletter_date}.")
        return
    table = Table(title=f"Editor decisions for {newsletter_date}")
    for column in ("article", "action", "source", "title", "note"):
        table.add_column(column, overflow="fold")
    for d in decisions:
        action = f"boost ×{d.factor:g}" if d.action is EditorAction.BOOST else str(d.action)
        table.add_row(str(d.article_id), action, d.source or "", d.title, d.note or "")
    out.print(table)
