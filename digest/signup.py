"""Double opt-in: sign-up, confirmation email, confirmation.

The web form calls :func:`sign_up`, commits, and sends the confirmation email
with :func:`send_confirmation` when told to. Only :func:`confirm` makes an
address active. The consent record (time, IP, source, the exact text agreed
to) is written at sign-up; the confirmation adds its own time and IP.

A repeated sign-up changes nothing visible: the page is the same whether the
address is new, pending or already subscribed, and a confirmation email goes
out at most once per address per :data:`RESEND_AFTER`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from digest import subscribers
from digest.store.models import Subscriber, SubscriberStatus

RESEND_AFTER = timedelta(hours=1)

# Already receiving (or on a break): a new sign-up must neither change them nor
# tell the person filling in the form that the address is known.
_SUBSCRIBED = (SubscriberStatus.ACTIVE, SubscriberStatus.PAUSED)


@dataclass(frozen=True)
class SignUp:
    email: str
    name: str | None
    language: str | None
    topics: Sequence[str]
    ip: str | None
    source: str
    # The sentence next to the button, in the language the form was shown in.
    consent_text: str


@dataclass(frozen=True)
class SignUpOutcome:
    subscriber_id: int
    # Whether the caller must send a confirmation email now (after committing).
    send_confirmation: bool


def sign_up(
    session: Session, form: SignUp, *, allowed_topics: Sequence[str], now: datetime
) -> SignUpOutcome:
    """Record a sign-up as pending. Raises InputError for an invalid address or field."""
    address = subscribers.normalize_email(form.email)
    language = subscribers._check_language(form.language)
    topics = subscribers.check_topics(form.topics, allowed_topics)
    name = (form.name or "").strip() or None
    subscriber = subscribers.find(session, address)
    if subscriber is not None and subscriber.status in _SUBSCRIBED:
        subscribers.record(session, subscriber, "signup_repeated", now=now, ip=form.ip)
        return SignUpOutcome(subscriber.id, send_confirmation=False)
    if subscriber is None:
        subscriber = Subscriber(
            email=address,
            status=SubscriberStatus.PENDING,
            source=form.source,
            topics=[],
            created_at=now,
            updated_at=now,
        )
        session.add(subscriber)
        session.flush()
    elif subscriber.status != SubscriberStatus.PENDING:
        # Unsubscribed, bounced or complained before: a new, confirmed opt-in
        # is the one way back, and it replaces the old suppression.
        subscribers.record(session, subscriber, "signup_again", now=now, was=subscriber.status)
        subscriber.status = SubscriberStatus.PENDING
        subscriber.status_reason = None
        subscriber.confirmed_at = None
        subscriber.confirmed_ip = None
    subscriber.name = name or subscriber.name
    subscriber.language = language or subscriber.language
    subscriber.topics = topics
    subscriber.consent_at = now
    subscriber.consent_ip = form.ip
    subscriber.consent_source = form.source
    subscriber.consent_text = form.consent_text
    subscriber.updated_at = now
    subscribers.record(session, subscriber, "signed_up", now=now, ip=form.ip, source=form.source)
    last = subscriber.confirmation_sent_at
    due = last is None or now - last >= RESEND_AFTER
    if due:
        subscriber.confirmation_sent_at = now
        subscribers.record(session, subscriber, "confirmation_sent", now=now)
    session.flush()
    return SignUpOutcome(subscriber.id, send_confirmation=due)


def confirm(session: Session, subscriber: Subscriber, *, ip: str | None, now: datetime) -> bool:
    """Activate a pending subscriber; True if this confirmed it (repeats are harmless)."""
    if subscriber.status != SubscriberStatus.PENDING:
        return False
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = now
    subscriber.confirmed_ip = ip
    subscriber.updated_at = now
    subscribers.record(session, subscriber, "confirmed", now=now, ip=ip)
    return True
