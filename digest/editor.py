"""Editor decisions for an edition before it freezes: pin, boost or drop an article.

A decision is stored per edition date and article and read every time the
edition is ranked (`digest rank`, the preview, the send), so the preview shows
its effect at once. Once the edition is frozen its items no longer change and
decisions are refused. See :class:`digest.rank.EditorActions` for what each does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest import editions
from digest.errors import EditionError, InputError
from digest.ingest.urls import canonical_url
from digest.store.models import Article, EditorAction, EditorDecision

# Boosts beyond this are a pin in disguise; pin instead.
MAX_BOOST = 10.0


@dataclass(frozen=True)
class Decision:
    newsletter_date: date
    article_id: int
    action: EditorAction
    factor: float | None
    title: str
    source: str | None
    note: str | None


def find_article(session: Session, reference: str) -> Article:
    """An article by id, or by URL (any form of it: tracking parameters are ignored)."""
    reference = reference.strip()
    if reference.isdigit():
        article = session.get(Article, int(reference))
    elif reference.startswith(("http://", "https://")):
        article = session.scalar(
            select(Article).where(Article.canonical_url == canonical_url(reference))
        )
    else:
        raise InputError(
            f"{reference!r} is neither an article id nor a URL",
            hint="`digest rank --explain` lists the candidates with their ids",
        )
    if article is None:
        raise InputError(
            f"there is no stored article {reference}",
            hint="`digest rank --explain` lists the candidates with their ids",
        )
    return article


def _check_open(session: Session, newsletter_date: date) -> None:
    edition = editions.get(session, newsletter_date)
    if edition is not None and edition.frozen_at is not None:
        raise EditionError(
            f"the edition of {newsletter_date} is frozen (sending started "
            f"{edition.frozen_at:%Y-%m-%d %H:%M} UTC): its items no longer change",
            hint="editor decisions apply to editions that have not started sending",
        )


def decide(
    session: Session,
    newsletter_date: date,
    reference: str,
    action: EditorAction,
    *,
    now: datetime,
    factor: float | None = None,
    note: str | None = None,
) -> Decision:
    """Record (or replace) the decision about one article for one edition."""
    if action is EditorAction.BOOST:
        if factor is None or not math.isfinite(factor) or not 0 < factor <= MAX_BOOST:
            raise InputError(
                f"--factor must be a number above 0 and at most {MAX_BOOST:g}, got {factor}",
                hint="1.5 raises the score by half; below 1 lowers it; to force it in, pin it",
            )
    else:
        factor = None
    _check_open(session, newsletter_date)
    article = find_article(session, reference)
    decision = session.scalar(
        select(EditorDecision).where(
            EditorDecision.newsletter_date == newsletter_date,
            EditorDecision.article_id == article.id,
        )
    )
    if decision is None:
        decision = EditorDecision(
            newsletter_date=newsletter_date, article_id=article.id, created_at=now
        )
        session.add(decision)
    decision.action = action
    decision.factor = factor
    decision.note = note
    decision.created_at = now
    session.flush()
    return _view(decision, article)


def clear(session: Session, newsletter_date: date, reference: str) -> bool:
    """Remove the decision about an article; False when there was none."""
    _check_open(session, newsletter_date)
    article = find_article(session, reference)
    result = session.execute(
        delete(EditorDecision).where(
            EditorDecision.newsletter_date == newsletter_date,
            EditorDecision.article_id == article.id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def decisions(session: Session, newsletter_date: date) -> list[Decision]:
    rows = session.execute(
        select(EditorDecision, Article)
        .join(Article, Article.id == EditorDecision.article_id)
        .where(EditorDecision.newsletter_date == newsletter_date)
        .order_by(EditorDecision.action, EditorDecision.article_id)
    )
    return [_view(decision, article) for decision, article in rows]


def _view(decision: EditorDecision, article: Article) -> Decision:
    return Decision(
        newsletter_date=decision.newsletter_date,
        article_id=article.id,
        action=EditorAction(decision.action),
        factor=decision.factor,
        title=article.title,
        source=article.source,
        note=decision.note,
    )
