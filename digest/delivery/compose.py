"""From a rendered edition and a subscriber to one OutgoingMessage.

Everything per recipient is decided here: the signed links, the personalized
parts, the unsubscribe headers (RFC 2369 and RFC 8058 one-click), the ids that
come back in provider events, and a deterministic Message-ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from digest.config import Settings
from digest.delivery.base import OutgoingMessage
from digest.render import Personalization, RenderedEdition, personalize
from digest.tokens import TokenSigner


@dataclass(frozen=True)
class Links:
    unsubscribe: str
    preferences: str


def links_for(settings: Settings, signer: TokenSigner, subscriber_id: int) -> Links:
    base = settings.newsletter.base_url
    return Links(
        unsubscribe=f"{base}/unsubscribe/{signer.sign(subscriber_id, 'unsubscribe')}",
        preferences=f"{base}/preferences/{signer.sign(subscriber_id, 'preferences')}",
    )


def sender_domain(settings: Settings) -> str:
    return settings.newsletter.from_email.rsplit("@", 1)[1]


def list_headers(settings: Settings, links: Links) -> dict[str, str]:
    newsletter = settings.newsletter
    targets = [f"<{links.unsubscribe}>"]
    if settings.delivery.unsubscribe_mailto:
        targets.append(f"<mailto:{settings.delivery.unsubscribe_mailto}?subject=unsubscribe>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        # Tells Gmail and Yahoo that a POST to the https URL unsubscribes at once.
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{newsletter.name} <{newsletter.list_slug}.{sender_domain(settings)}>",
    }


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    name: str | None
    language: str | None = None


def compose(
    settings: Settings,
    signer: TokenSigner,
    rendered: RenderedEdition,
    recipient: Recipient,
    *,
    edition_id: int,
    newsletter_date: date,
    now: datetime,
) -> OutgoingMessage:
    links = links_for(settings, signer, recipient.id)
    personal = personalize(
        rendered,
        Personalization(
            email=recipient.email,
            name=recipient.name,
            unsubscribe_url=links.unsubscribe,
            preferences_url=links.preferences,
        ),
    )
    newsletter = settings.newsletter
    return OutgoingMessage(
        to_email=recipient.email,
        to_name=recipient.name,
        from_email=newsletter.from_email,
        from_name=newsletter.sender_name,
        reply_to=newsletter.reply_to,
        subject=personal.subject,
        text=personal.text,
        html=personal.html,
        message_id=f"<digest.{newsletter_date.isoformat()}.{recipient.id}@{sender_domain(settings)}>",
        date=now,
        headers=list_headers(settings, links),
        custom_args={
            "edition_id": str(edition_id),
            "edition_date": newsletter_date.isoformat(),
            "subscriber_id": str(recipient.id),
        },
        categories=tuple(settings.delivery.sendgrid.categories),
    )
