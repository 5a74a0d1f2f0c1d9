"""Edition statistics: what the delivery ledger and the provider's events say about one edition.

The ledger gives what we sent (sent means accepted by the provider; failed;
uncertain: the request may or may not have reached it). The provider events
give what happened next; each is counted once per subscriber however often
the provider reported it (opens and clicks repeat, webhooks retry). Events
that matched no subscriber are left out of those counts, as elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.errors import EditionError, InputError
from digest.store.models import Delivery, DeliveryStatus, Edition, ProviderEvent

EVENTS = ("delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")
"""The normalized provider events counted, in the order they are shown."""

_MAX_ID = 2**31 - 1  # an INTEGER column: larger numbers cannot be an edition id


@dataclass(frozen=True)
class LinkClicks:
    url: str
    # Distinct subscribers who clicked it, and all clicks on it.
    subscribers: int
    clicks: int


@dataclass(frozen=True)
class EditionStats:
    edition_id: int
    newsletter_date: date
    status: str
    sent_at: datetime | None
    sent: int
    failed: int
    uncertain: int
    delivered: int
    opened: int
    clicked: int
    bounced: int
    complained: int
    unsubscribed: int
    top_links: list[LinkClicks]

    def rate(self, count: int) -> float | None:
        """``count`` as a share of the emails sent; None before anything was sent."""
        return count / self.sent if self.sent else None

    @property
    def rates(self) -> dict[str, float | None]:
        return {name: self.rate(getattr(self, name)) for name in EVENTS}


def find_edition(session: Session, ref: str | None) -> Edition | None:
    """The edition of a date (YYYY-MM-DD) or with an id; without ``ref``, the latest one.

    Returns None only when there is no edition at all and no ``ref`` was given.
    Raises InputError for a ``ref`` that is neither, EditionError for one that
    names no edition.
    """
    latest = session.scalar(select(Edition).order_by(Edition.newsletter_date.desc()).limit(1))
    if ref is None:
        return latest
    text = ref.strip()
    if text.isdigit():
        number = int(text)
        edition = session.get(Edition, number) if number <= _MAX_ID else None
        missing = f"there is no edition with id {number}"
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"edition {ref!r} is neither a date like 2026-11-25 nor an edition id"
            ) from None
        edition = session.scalar(select(Edition).where(Edition.newsletter_date == day))
        missing = f"there is no edition for {day}"
    if edition is None:
        hint = (
            f"the latest is {latest.newsletter_date} (id {latest.id})"
            if latest is not None
            else "no edition has been sent yet"
        )
        raise EditionError(missing, hint=hint)
    return edition


def edition_stats(
    session: Session, ref: str | None = None, *, top: int = 10
) -> EditionStats | None:
    """The numbers of one edition (see :func:`find_edition`), with its ``top`` clicked links.

    None when there are no editions yet and no ``ref`` was given.
    """
    edition = find_edition(session, ref)
    if edition is None:
        return None
    ledger: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.edition_id == edition.id)
            .group_by(Delivery.status)
        )
    }
    who = func.count(func.distinct(ProviderEvent.subscriber_id))
    events: dict[str, int] = {
        event: count
        for event, count in session.execute(
            select(ProviderEvent.event, who)
            .where(ProviderEvent.edition_id == edition.id, ProviderEvent.event.in_(EVENTS))
            .group_by(ProviderEvent.event)
        )
    }
    links = session.execute(
        select(ProviderEvent.url, who, func.count())
        .where(
            ProviderEvent.edition_id == edition.id,
            ProviderEvent.event == "clicked",
            ProviderEvent.url.is_not(None),
        )
        .group_by(ProviderEvent.url)
        .order_by(who.desc(), func.count().desc(), ProviderEvent.url)
        .limit(top)
    )
    return EditionStats(
        edition_id=edition.id,
        newsletter_date=edition.newsletter_date,
        status=edition.status,
        sent_at=edition.sent_at,
        sent=ledger.get(DeliveryStatus.ACCEPTED, 0),
        failed=ledger.get(DeliveryStatus.FAILED, 0),
        uncertain=ledger.get(DeliveryStatus.UNCERTAIN, 0),
        delivered=events.get("delivered", 0),
        opened=events.get("opened", 0),
        clicked=events.get("clicked", 0),
        bounced=events.get("bounced", 0),
        complained=events.get("complained", 0),
        unsubscribed=events.get("unsubscribed", 0),
        top_links=[LinkClicks(url or "", subs, clicks) for url, subs, clicks in links],
    )
