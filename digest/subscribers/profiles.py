"""One subscriber's whole story, for `digest subscribers show`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Subquery, func, or_, select
from sqlalchemy.orm import Session

from digest.errors import InputError
from digest.store.models import (
    Delivery,
    Edition,
    ProviderEvent,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
)
from digest.subscribers.core import SUPPRESSIONS, find, normalize_email


@dataclass(frozen=True)
class Consent:
    """The proof of opt-in: when, from where and how they agreed, then confirmed."""

    consent_at: datetime | None
    consent_ip: str | None
    consent_source: str | None
    consent_text: str | None
    confirmed_at: datetime | None
    confirmed_ip: str | None
    confirmation_sent_at: datetime | None


@dataclass(frozen=True)
class HistoryEntry:
    occurred_at: datetime
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class DeliveryEntry:
    edition_id: int
    newsletter_date: date
    status: str
    provider_message_id: str | None
    error: str | None
    attempts: int
    updated_at: datetime


@dataclass(frozen=True)
class ProviderEntry:
    occurred_at: datetime
    event: str
    edition_id: int | None
    url: str | None
    reason: str | None


@dataclass(frozen=True)
class Profile:
    """Everything known about one subscriber, for `digest subscribers show`."""

    email: str
    name: str | None
    language: str | None
    timezone: str | None
    topics: list[str]
    delivery_time: str | None
    status: str
    status_reason: str | None
    status_since: datetime
    source: str
    created_at: datetime
    consent: Consent
    # Oldest first; deliveries and provider events are the latest ``limit`` of
    # ``deliveries_total`` and ``events_total``.
    history: list[HistoryEntry]
    deliveries: list[DeliveryEntry]
    deliveries_total: int
    events: list[ProviderEntry]
    events_total: int


# The status each history event leaves the subscriber in ("suppressed" and
# "imported" carry theirs in the detail).
_STATUS_AFTER = {
    "subscribed": SubscriberStatus.ACTIVE,
    "confirmed": SubscriberStatus.ACTIVE,
    "resubscribed": SubscriberStatus.ACTIVE,
    "resumed": SubscriberStatus.ACTIVE,
    "paused": SubscriberStatus.PAUSED,
    "unsubscribed": SubscriberStatus.UNSUBSCRIBED,
    "signed_up": SubscriberStatus.PENDING,
    "signup_again": SubscriberStatus.PENDING,
}


def _status_since(subscriber: Subscriber, history: Sequence[HistoryEntry]) -> datetime:
    """When the subscriber entered the current status: the history's last change to it."""
    since: datetime | None = None
    current: str | None = None
    for entry in history:
        if entry.kind in _STATUS_AFTER:
            after: object = _STATUS_AFTER[entry.kind]
        elif entry.kind in ("suppressed", "imported"):
            after = entry.detail.get("status")
        else:
            continue
        if after and str(after) != current:
            current, since = str(after), entry.occurred_at
    if since is not None and current == subscriber.status:
        return since
    # Rows older than the history (or a history that was not recorded).
    if subscriber.status in SUPPRESSIONS and subscriber.unsubscribed_at is not None:
        return subscriber.unsubscribed_at
    if subscriber.status == SubscriberStatus.ACTIVE and subscriber.confirmed_at is not None:
        return subscriber.confirmed_at
    return subscriber.created_at


def profile(session: Session, email: str, *, limit: int | None = None) -> Profile:
    """One subscriber's status, details, consent record, history, deliveries and events.

    ``limit`` keeps the latest deliveries and provider events (all by default).
    Raises InputError for an invalid or unknown address.
    """
    subscriber = find(session, email)
    if subscriber is None:
        raise InputError(f"{normalize_email(email)} is not a subscriber")
    history = [
        HistoryEntry(e.occurred_at, e.kind, dict(e.detail or {}))
        for e in session.scalars(
            select(SubscriberEvent)
            .where(SubscriberEvent.subscriber_id == subscriber.id)
            .order_by(SubscriberEvent.occurred_at, SubscriberEvent.id)
        )
    ]
    deliveries = select(Delivery, Edition.newsletter_date).join(
        Edition, Edition.id == Delivery.edition_id
    )
    deliveries = deliveries.where(Delivery.subscriber_id == subscriber.id)
    events = select(ProviderEvent).where(
        or_(ProviderEvent.subscriber_id == subscriber.id, ProviderEvent.email == subscriber.email)
    )
    delivery_rows = session.execute(
        deliveries.order_by(Edition.newsletter_date.desc(), Delivery.id.desc()).limit(limit)
    ).all()
    event_rows = session.scalars(
        events.order_by(ProviderEvent.occurred_at.desc(), ProviderEvent.id.desc()).limit(limit)
    ).all()
    return Profile(
        email=subscriber.email,
        name=subscriber.name,
        language=subscriber.language,
        timezone=subscriber.timezone,
        topics=list(subscriber.topics or []),
        delivery_time=subscriber.delivery_time,
        status=subscriber.status,
        status_reason=subscriber.status_reason,
        status_since=_status_since(subscriber, history),
        source=subscriber.source,
        created_at=subscriber.created_at,
        consent=Consent(
            consent_at=subscriber.consent_at,
            consent_ip=subscriber.consent_ip,
            consent_source=subscriber.consent_source,
            consent_text=subscriber.consent_text,
            confirmed_at=subscriber.confirmed_at,
            confirmed_ip=subscriber.confirmed_ip,
            confirmation_sent_at=subscriber.confirmation_sent_at,
        ),
        history=history,
        deliveries=[
            DeliveryEntry(
                edition_id=d.edition_id,
                newsletter_date=newsletter_date,
                status=d.status,
                provider_message_id=d.provider_message_id,
                error=d.error,
                attempts=d.attempts,
                updated_at=d.updated_at,
            )
            for d, newsletter_date in reversed(delivery_rows)
        ],
        deliveries_total=_count(session, deliveries.subquery()),
        events=[
            ProviderEntry(e.occurred_at, e.event, e.edition_id, e.url, e.reason)
            for e in reversed(event_rows)
        ],
        events_total=_count(session, events.subquery()),
    )


def _count(session: Session, rows: Subquery) -> int:
    return session.scalar(select(func.count()).select_from(rows)) or 0
