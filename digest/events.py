"""Provider delivery events (the SendGrid Event Webhook): normalize, store once, act.

Three layers, each testable on its own:

* :func:`parse_batch` turns the raw request body into :class:`ParsedEvent` values.
  Pure: no database, no clock (``now`` is passed in).
* :func:`record_events` stores each event once, keyed on (provider, provider event
  id), and applies its action (a suppression) only when the event is new, so a
  retried or duplicated delivery of the same event changes nothing.
* :func:`event_counts` and :func:`clicks_by_url` read the stored events back for
  per-edition statistics.

SendGrid's event names map to one normalized vocabulary through :data:`EVENT_TYPES`;
a name we do not know becomes ``unknown`` and is stored without any action.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest import subscribers
from digest.errors import InputError
from digest.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    ProviderEvent,
    Subscriber,
    SubscriberStatus,
)

log = logging.getLogger(__name__)

PROVIDER = "sendgrid"


class EventType(StrEnum):
    """The normalized vocabulary stored in ``provider_events.event``."""

    QUEUED = "queued"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    # Refused by the receiving server because of the sender or the content
    # (reputation, blocklist, spam filter), not because of the address.
    BLOCKED = "blocked"
    REJECTED = "rejected"
    OPENED = "opened"
    CLICKED = "clicked"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    RESUBSCRIBED = "resubscribed"
    UNKNOWN = "unknown"


# SendGrid event name -> normalized type; the one place that knows SendGrid's names.
# A bounce carries ``type: "bounce"`` (the address is bad) or ``type: "blocked"``
# (the message or our sending IP was refused); SendGrid itself only suppresses the
# former, so the blocked kind gets its own key and type and never suppresses.
EVENT_TYPES: dict[str, EventType] = {
    "processed": EventType.QUEUED,
    "deferred": EventType.DEFERRED,
    "delivered": EventType.DELIVERED,
    "bounce": EventType.BOUNCED,
    "bounce:blocked": EventType.BLOCKED,
    "dropped": EventType.REJECTED,
    "open": EventType.OPENED,
    "click": EventType.CLICKED,
    "spamreport": EventType.COMPLAINED,
    "unsubscribe": EventType.UNSUBSCRIBED,
    "group_unsubscribe": EventType.UNSUBSCRIBED,
    "group_resubscribe": EventType.RESUBSCRIBED,
}

# Why SendGrid dropped a message (its ``reason``, compared case-insensitively) ->
# the suppression that explains it. SendGrid drops a message when the address is
# already on one of its suppression lists; mirroring that here keeps us from
# sending to it again. Any other drop reason (message too large, invalid SMTPAPI
# header, spam content...) is about the message, so the address stays active.
DROP_REASONS: dict[str, SubscriberStatus] = {
    "bounced address": SubscriberStatus.BOUNCED,
    "invalid": SubscriberStatus.BOUNCED,
    "invalid address": SubscriberStatus.BOUNCED,
    "unsubscribed address": SubscriberStatus.UNSUBSCRIBED,
    "spam reporting address": SubscriberStatus.COMPLAINED,
}

# Column sizes of provider_events (and subscribers.status_reason): longer values
# are cut rather than refused, so one odd event cannot fail the whole batch.
_ID_MAX = 200
_NAME_MAX = 40
_EMAIL_MAX = 320
_URL_MAX = 2048
_STATUS_REASON_MAX = 500
# Custom args come back as strings; ids must also fit an SQL INTEGER.
_INT_MAX = 2**31 - 1


class InvalidPayload(InputError):
    """The (authentic) request body is not a JSON array of events."""


@dataclass(frozen=True)
class ParsedEvent:
    """One provider event, normalized, before it meets the database."""

    provider_event_id: str
    provider_event: str
    event: EventType
    occurred_at: datetime
    email: str | None
    edition_id: int | None
    edition_date: date | None
    subscriber_id: int | None
    url: str | None
    reason: str | None
    payload: dict[str, Any] = field(repr=False)


def normalize(provider_event: str, bounce_type: str | None = None) -> EventType:
    """The normalized type of a SendGrid event name (``unknown`` if we do not know it)."""
    key = provider_event
    if provider_event == "bounce" and (bounce_type or "").strip().lower() == "blocked":
        key = "bounce:blocked"
    return EVENT_TYPES.get(key, EventType.UNKNOWN)


def _text(value: Any, limit: int | None = None) -> str | None:
    """A clean string or None; NUL characters are dropped because PostgreSQL refuses them."""
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    if not text:
        return None
    return text[:limit] if limit else text


def _id(value: Any) -> int | None:
    """Our custom args are decimal strings; anything else is ignored, never an error."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= _INT_MAX else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _timestamp(value: Any, fallback: datetime) -> datetime:
    """Unix seconds as an aware UTC datetime; the receive time if missing or absurd."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return fallback
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fallback
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback


def parse_event(raw: Mapping[str, Any], *, now: datetime) -> ParsedEvent | None:
    """Normalize one event; None (with a log line) when it has no usable ``sg_event_id``.

    Without the event id an event cannot be stored idempotently: a retry would
    count and act on it twice, so it is skipped instead.
    """
    event_id = _text(raw.get("sg_event_id"))
    provider_event = _text(raw.get("event"), _NAME_MAX) or ""
    if event_id is None or len(event_id) > _ID_MAX:
        log.warning("SendGrid %r event without a usable sg_event_id skipped", provider_event)
        return None
    event = normalize(provider_event, _text(raw.get("type")))
    if event is EventType.UNKNOWN:
        log.info("SendGrid event %r is not one we know; stored as unknown", provider_event)
    # Bounces and drops explain themselves in ``reason``, deliveries and
    # deferrals in ``response`` (the receiving server's answer).
    reason = _text(raw.get("reason")) or _text(raw.get("response"))
    return ParsedEvent(
        provider_event_id=event_id,
        provider_event=provider_event,
        event=event,
        occurred_at=_timestamp(raw.get("timestamp"), now),
        email=_text(raw.get("email"), _EMAIL_MAX),
        # SendGrid returns the message's custom_args as top-level event fields.
        edition_id=_id(raw.get("edition_id")),
        edition_date=_date(raw.get("edition_date")),
        subscriber_id=_id(raw.get("subscriber_id")),
        url=_text(raw.get("url"), _URL_MAX) if event is EventType.CLICKED else None,
        reason=reason,
        payload=dict(raw),
    )


def parse_batch(body: bytes, *, now: datetime) -> list[ParsedEvent]:
    """Parse a webhook body: a JSON array of event objects.

    Raises :class:`InvalidPayload` if the body is not JSON or not an array.
    Elements that are not objects, or lack an event id, are skipped with a log line.
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        raise InvalidPayload(f"SendGrid webhook body is not JSON: {err}") from err
    if not isinstance(data, list):
        raise InvalidPayload(
            f"SendGrid webhook body must be a JSON array of events, not {type(data).__name__}"
        )
    parsed: list[ParsedEvent] = []
    for index, raw in enumerate(data):
        if not isinstance(raw, dict):
            log.warning("SendGrid webhook item %d is not an object; skipped", index)
            continue
        event = parse_event(raw, now=now)
        if event is not None:
            parsed.append(event)
    return parsed


@dataclass
class RecordReport:
    """What :func:`record_events` did with a batch."""

    stored: int = 0
    duplicates: int = 0
    # Subscribers whose status changed because of an event in this batch.
    suppressed: int = 0
    unmatched: int = 0


def _same_address(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _subscriber_for(session: Session, event: ParsedEvent) -> Subscriber | None:
    """Our subscriber_id custom arg first, the address otherwise.

    The id is only trusted when the subscriber's address matches the event's:
    a SendGrid account shared by a staging and a production install would
    otherwise let one install's ids suppress the other's subscribers.
    """
    if event.subscriber_id is not None:
        candidate = session.get(Subscriber, event.subscriber_id)
        if candidate is not None and (
            event.email is None or _same_address(candidate.email, event.email)
        ):
            return candidate
    if event.email is None:
        return None
    try:
        exact = subscribers.find(session, event.email)
    except InputError:
        return None
    if exact is not None:
        return exact
    # SendGrid may report an address in another case than we sent it (its
    # suppression lists ignore case); accept that only if it is unambiguous.
    matches = session.scalars(
        select(Subscriber).where(func.lower(Subscriber.email) == event.email.lower()).limit(2)
    ).all()
    return matches[0] if len(matches) == 1 else None


def _edition_id_for(session: Session, event: ParsedEvent) -> int | None:
    if event.edition_id is None:
        return None
    edition = session.get(Edition, event.edition_id)
    if edition is None:
        return None
    # Same reasoning as for subscribers: the date custom arg must agree.
    if event.edition_date is not None and edition.newsletter_date != event.edition_date:
        return None
    return edition.id


def _suppression(event: ParsedEvent) -> tuple[SubscriberStatus, str] | None:
    """The suppression an event calls for, with the reason recorded in the history."""
    if event.event is EventType.BOUNCED:
        return SubscriberStatus.BOUNCED, f"SendGrid bounce: {event.reason or 'no reason given'}"
    if event.event is EventType.REJECTED:
        status = DROP_REASONS.get((event.reason or "").strip().lower())
        if status is None:
            return None
        return status, f"SendGrid dropped: {event.reason}"
    if event.event is EventType.COMPLAINED:
        return SubscriberStatus.COMPLAINED, "SendGrid spam report"
    if event.event is EventType.UNSUBSCRIBED:
        return SubscriberStatus.UNSUBSCRIBED, "SendGrid unsubscribe"
    # Everything else is only stored. A resubscribe in particular never
    # re-activates anyone: consent to receive the newsletter again must come
    # from the person through our own sign-up or undo pages (with their consent
    # record), not from a checkbox in a provider's preference centre.
    return None


def _apply(session: Session, event: ParsedEvent, subscriber: Subscriber, *, now: datetime) -> bool:
    """Apply the event's suppression, if it calls for one; True if the status changed."""
    action = _suppression(event)
    if action is None:
        return False
    status, reason = action
    changed = subscribers.suppress(
        session, subscriber, status, now=now, reason=reason[:_STATUS_REASON_MAX]
    )
    if changed:
        # The id, not the address: logs are kept longer and wider than the database.
        log.info("subscriber %d suppressed as %s (%s)", subscriber.id, status, reason)
    return changed


def _settle_uncertain(
    session: Session, edition_id: int, subscriber_id: int, *, now: datetime
) -> None:
    # Any event about this edition and subscriber proves the request reached
    # the provider: an uncertain ledger row is resolved as accepted, and the
    # send loop will not ask the operator about it.
    session.execute(
        update(Delivery)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.subscriber_id == subscriber_id,
            Delivery.status == DeliveryStatus.UNCERTAIN,
        )
        .values(status=DeliveryStatus.ACCEPTED, error=None, updated_at=now)
    )


def _store_once(
    session: Session,
    row: ProviderEvent,
    event: ParsedEvent,
    subscriber: Subscriber | None,
    *,
    now: datetime,
) -> bool | None:
    """Insert the event and apply its action together; None if it was already stored.

    The insert runs in a savepoint and the unique constraint on (provider,
    provider_event_id) decides, so two concurrent deliveries of one event cannot
    both get in: the second insert waits for the first transaction and then
    fails, and counts as a duplicate. The action shares the savepoint so that
    "stored" always means "acted on", even where a savepoint is committed on its
    own (pysqlite starts no transaction before a SAVEPOINT).
    """
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            if row.edition_id is not None and row.subscriber_id is not None:
                _settle_uncertain(session, row.edition_id, row.subscriber_id, now=now)
            return _apply(session, event, subscriber, now=now) if subscriber else False
    except IntegrityError:
        exists = session.scalar(
            select(ProviderEvent.id).where(
                ProviderEvent.provider == row.provider,
                ProviderEvent.provider_event_id == row.provider_event_id,
            )
        )
        if exists is None:
            # Not the unique key (say, an edition deleted meanwhile): let it fail
            # so the webhook answers 500 and the provider retries.
            raise
        return None


def record_events(
    session: Session, events: Iterable[ParsedEvent], *, now: datetime
) -> RecordReport:
    """Store each event once and apply its action the first time it is stored.

    Idempotent per (provider, provider_event_id): storing the same events again
    changes nothing. Events for addresses that are not subscribers are stored
    without a subscriber. Database errors propagate (the caller answers 500 so
    the provider retries the whole batch; events already stored are then skipped).
    """
    report = RecordReport()
    for event in events:
        subscriber = _subscriber_for(session, event)
        row = ProviderEvent(
            provider=PROVIDER,
            provider_event_id=event.provider_event_id,
            event=str(event.event),
            provider_event=event.provider_event,
            occurred_at=event.occurred_at,
            received_at=now,
            email=subscriber.email if subscriber is not None else event.email,
            edition_id=_edition_id_for(session, event),
            subscriber_id=subscriber.id if subscriber is not None else None,
            url=event.url,
            reason=event.reason,
            payload=event.payload,
        )
        outcome = _store_once(session, row, event, subscriber, now=now)
        if outcome is None:
            report.duplicates += 1
            continue
        report.stored += 1
        if outcome:
            report.suppressed += 1
        if subscriber is None:
            report.unmatched += 1
    return report


def event_counts(session: Session, edition_id: int) -> dict[str, int]:
    """Distinct subscribers per normalized event for one edition.

    Events that matched no subscriber are not counted.
    """
    rows = session.execute(
        select(ProviderEvent.event, func.count(func.distinct(ProviderEvent.subscriber_id)))
        .where(ProviderEvent.edition_id == edition_id)
        .group_by(ProviderEvent.event)
    ).all()
    return {event: count for event, count in rows if count}


@dataclass(frozen=True)
class UrlClicks:
    url: str
    # Distinct subscribers who clicked, and all clicks (repeats included).
    subscribers: int
    clicks: int


def clicks_by_url(session: Session, edition_id: int) -> Sequence[UrlClicks]:
    """Clicked links of one edition, most clicked (by distinct subscribers) first."""
    people = func.count(func.distinct(ProviderEvent.subscriber_id))
    total = func.count(ProviderEvent.id)
    rows = session.execute(
        select(ProviderEvent.url, people, total)
        .where(
            ProviderEvent.edition_id == edition_id,
            ProviderEvent.event == EventType.CLICKED,
            ProviderEvent.url.is_not(None),
        )
        .group_by(ProviderEvent.url)
        .order_by(people.desc(), total.desc(), ProviderEvent.url)
    ).all()
    return [UrlClicks(url=url, subscribers=n, clicks=c) for url, n, c in rows if url is not None]
