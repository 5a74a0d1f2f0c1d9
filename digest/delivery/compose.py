"""What differs per recipient: the signed links and the list headers.

The unsubscribe headers follow RFC 2369 and RFC 8058 (one-click). The send
loop (digest.delivery.send) puts these into each batch recipient.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.config import Settings
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
