"""Subscriber services: checks, add, list, status changes, preferences, remove."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest.errors import InputError
from digest.store.models import (
    Delivery,
    ProviderEvent,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
)

LANGUAGES = ("de", "en")


def normalize_email(raw: str) -> str:
    """The canonical form of an address, or InputError saying what is wrong with it."""
    try:
        # Deliverability (DNS) is not checked: imports must work offline, and a
        # dead domain shows up as a bounce anyway.
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as err:
        raise InputError(f"{raw.strip()!r} is not a valid email address: {err}") from None


def _check_language(language: str | None) -> str | None:
    if language is None or language == "":
        return None
    value = language.strip().lower()
    if value not in LANGUAGES:
        raise InputError(
            f"language {language!r} is not supported (use one of: {', '.join(LANGUAGES)})"
        )
    return value


def _check_timezone(timezone: str | None) -> str | None:
    if timezone is None or timezone.strip() == "":
        return None
    try:
        ZoneInfo(timezone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"time zone {timezone!r} is unknown (use an IANA name such as Europe/Berlin)"
        ) from None
    return timezone.strip()


def find(session: Session, email: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email == normalize_email(email)))


def record(
    session: Session, subscriber: Subscriber, kind: str, *, now: datetime, **detail: Any
) -> None:
    """Append to the subscriber's history (shown by `digest subscribers show`)."""
    if subscriber.id is None:
        session.flush()
    session.add(
        SubscriberEvent(subscriber_id=subscriber.id, occurred_at=now, kind=kind, detail=detail)
    )


def check_delivery_time(value: str | None) -> str | None:
    """'HH:MM' on a 24-hour clock, or None for the newsletter's send time."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    parts = text.split(":")
    if (
        len(parts) == 2
        and all(p.isdigit() and len(p) == 2 for p in parts)
        and int(parts[0]) < 24
        and int(parts[1]) < 60
    ):
        return text
    raise InputError(f"delivery time {value!r} is not a time like 07:30")


def check_topics(topics: Sequence[str], allowed: Sequence[str]) -> list[str]:
    unknown = [topic for topic in topics if topic not in allowed]
    if unknown:
        raise InputError(
            f"unknown topic(s): {', '.join(unknown)} (choose from: {', '.join(allowed)})"
        )
    # Keep the configured order so equal choices compare equal.
    return [topic for topic in allowed if topic in topics]


AddOutcome = Literal["added", "updated", "unchanged"]


def add(
    session: Session,
    email: str,
    *,
    now: datetime,
    name: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
    source: str = "cli",
    resubscribe: bool = False,
) -> tuple[Subscriber, AddOutcome]:
    """Add an active subscriber, or update the details of an existing one.

    An address that unsubscribed or bounced stays suppressed unless
    ``resubscribe`` is set: re-adding someone who left must be a deliberate act.
    """
    address = normalize_email(email)
    language = _check_language(language)
    timezone = _check_timezone(timezone)
    name = name.strip() or None if name is not None else None
    existing = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if existing is None:
        subscriber = Subscriber(
            email=address,
            name=name,
            language=language,
            timezone=timezone,
            status=SubscriberStatus.ACTIVE,
            source=source,
            topics=[],
            created_at=now,
            updated_at=now,
            # Added by an operator: the operator vouches for the consent.
            consent_at=now,
            consent_source=source,
            confirmed_at=now,
        )
        session.add(subscriber)
        session.flush()
        record(session, subscriber, "subscribed", now=now, source=source)
        return subscriber, "added"
    if existing.status != SubscriberStatus.ACTIVE and not resubscribe:
        since = f" on {existing.unsubscribed_at:%Y-%m-%d}" if existing.unsubscribed_at else ""
        raise InputError(
            f"{address} is {existing.status}{since} and is not sent to",
            hint="pass --resubscribe if they asked to receive the newsletter again",
        )
    changed = False
    for attr, value in (("name", name), ("language", language), ("timezone", timezone)):
        if value is not None and getattr(existing, attr) != value:
            setattr(existing, attr, value)
            changed = True
    if existing.status != SubscriberStatus.ACTIVE:
        record(session, existing, "resubscribed", now=now, source=source, was=existing.status)
        existing.status = SubscriberStatus.ACTIVE
        existing.status_reason = None
        existing.unsubscribed_at = None
        changed = True
    if changed:
        existing.updated_at = now
    return existing, "updated" if changed else "unchanged"


def check_status(status: str | None) -> SubscriberStatus | None:
    """A status name (any case), or None when empty; InputError lists the valid ones."""
    if status is None or status.strip() == "":
        return None
    try:
        return SubscriberStatus(status.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in SubscriberStatus)
        raise InputError(f"status {status!r} is unknown (use one of: {names})") from None


def list_all(session: Session, *, status: str | None = None) -> Sequence[Subscriber]:
    query = select(Subscriber).order_by(Subscriber.email)
    wanted = check_status(status)
    if wanted is not None:
        query = query.where(Subscriber.status == wanted)
    return session.scalars(query).all()


def unsubscribe(session: Session, subscriber: Subscriber, *, now: datetime, reason: str) -> bool:
    """Mark as unsubscribed; True if this changed anything (repeat calls are harmless)."""
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return False
    record(session, subscriber, "unsubscribed", now=now, reason=reason, was=subscriber.status)
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.status_reason = reason
    subscriber.unsubscribed_at = now
    subscriber.updated_at = now
    return True


def undo_unsubscribe(session: Session, subscriber: Subscriber, *, now: datetime) -> bool:
    """Take back an unsubscribe (the undo button); only an unsubscribed address returns.

    Bounced and complained addresses are not re-activated this way: they need a
    new sign-up with confirmation.
    """
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        return False
    record(session, subscriber, "resubscribed", now=now, source="undo")
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.status_reason = None
    subscriber.unsubscribed_at = None
    subscriber.updated_at = now
    return True


def pause(session: Session, subscriber: Subscriber, *, now: datetime) -> bool:
    if subscriber.status != SubscriberStatus.ACTIVE:
        return False
    record(session, subscriber, "paused", now=now)
    subscriber.status = SubscriberStatus.PAUSED
    subscriber.updated_at = now
    return True


def resume(session: Session, subscriber: Subscriber, *, now: datetime) -> bool:
    if subscriber.status != SubscriberStatus.PAUSED:
        return False
    record(session, subscriber, "resumed", now=now)
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.updated_at = now
    return True


SUPPRESSIONS = (
    SubscriberStatus.UNSUBSCRIBED,
    SubscriberStatus.BOUNCED,
    SubscriberStatus.COMPLAINED,
)


def suppress(
    session: Session,
    subscriber: Subscriber,
    status: SubscriberStatus,
    *,
    now: datetime,
    reason: str,
) -> bool:
    """Stop all sending to an address because of a provider event (bounce, spam report...).

    A complaint outranks a bounce, and both outrank an unsubscribe, so a later,
    weaker event never hides why an address is suppressed.
    """
    if status not in SUPPRESSIONS:
        raise ValueError(f"{status} is not a suppression")
    current = SubscriberStatus(subscriber.status)
    if current in SUPPRESSIONS and SUPPRESSIONS.index(current) >= SUPPRESSIONS.index(status):
        return False
    record(
        session, subscriber, "suppressed", now=now, status=str(status), reason=reason, was=current
    )
    subscriber.status = status
    subscriber.status_reason = reason
    subscriber.unsubscribed_at = subscriber.unsubscribed_at or now
    subscriber.updated_at = now
    return True


@dataclass(frozen=True)
class Preferences:
    name: str | None
    language: str | None
    topics: list[str]
    timezone: str | None
    delivery_time: str | None
    # Source names whose stories the subscriber does not want; None: unchanged.
    muted_sources: list[str] | None = None


def update_preferences(
    session: Session,
    subscriber: Subscriber,
    wanted: Preferences,
    *,
    allowed_topics: Sequence[str],
    now: datetime,
) -> list[str]:
    """Apply the preferences form; return the names of the fields that changed.

    Validates everything before changing anything (InputError names the field).
    """
    values = {
        "name": (wanted.name or "").strip() or None,
        "language": _check_language(wanted.language),
        "topics": check_topics(wanted.topics, allowed_topics),
        "timezone": _check_timezone(wanted.timezone),
        "delivery_time": check_delivery_time(wanted.delivery_time),
    }
    if wanted.muted_sources is not None:
        values["muted_sources"] = sorted(
            {m.strip()[:300] for m in wanted.muted_sources if m.strip()}
        )
    changed = [name for name, value in values.items() if getattr(subscriber, name) != value]
    for name in changed:
        setattr(subscriber, name, values[name])
    if changed:
        subscriber.updated_at = now
        record(session, subscriber, "preferences_changed", now=now, fields=changed)
    return changed


def remove(session: Session, email: str, *, now: datetime, purge: bool = False) -> Subscriber:
    """Unsubscribe an address; with ``purge``, erase it with everything kept about it.

    Unsubscribing keeps the address as a suppression so a later import cannot add
    it back by accident; purging is for erasure requests: the subscriber, their
    history, their deliveries and the provider events that name them are deleted.
    """
    subscriber = find(session, email)
    if subscriber is None:
        raise InputError(f"{normalize_email(email)} is not a subscriber")
    if purge:
        session.execute(delete(Delivery).where(Delivery.subscriber_id == subscriber.id))
        session.execute(
            delete(SubscriberEvent).where(SubscriberEvent.subscriber_id == subscriber.id)
        )
        session.execute(
            delete(ProviderEvent).where(
                (ProviderEvent.subscriber_id == subscriber.id)
                | (ProviderEvent.email == subscriber.email)
            )
        )
        session.delete(subscriber)
    else:
        unsubscribe(session, subscriber, now=now, reason="removed by operator")
    session.flush()
    return subscriber
