"""What differs per recipient: the signed links and the list headers.

The unsubscribe headers follow RFC 2369 and RFC 8058 (one-click). The send
loop (digest.delivery.send) puts these into each batch recipient through a
:class:`Composer`, which works out everything that is the same for every
recipient once per run.
"""

from __future__ import annotations

from typing import NamedTuple

from digest.config import Settings
from digest.tokens import TokenSigner

# Tells Gmail and Yahoo that a POST to the https URL unsubscribes at once.
ONE_CLICK = "List-Unsubscribe=One-Click"


class Links(NamedTuple):
    # A tuple: one is made per recipient.
    unsubscribe: str
    preferences: str


def sender_domain(settings: Settings) -> str:
    return settings.newsletter.from_email.rsplit("@", 1)[1]


class Composer:
    """Links and list headers for one run: the constant parts are built once."""

    def __init__(self, settings: Settings, signer: TokenSigner) -> None:
        newsletter = settings.newsletter
        self._sign = signer.sign
        self._unsubscribe = f"{newsletter.base_url}/unsubscribe/"
        self._preferences = f"{newsletter.base_url}/preferences/"
        mailto = settings.delivery.unsubscribe_mailto
        self._mailto = f", <mailto:{mailto}?subject=unsubscribe>" if mailto else ""
        self._list_id = f"{newsletter.name} <{newsletter.list_slug}.{sender_domain(settings)}>"

    def links(self, subscriber_id: int) -> Links:
        return Links(
            unsubscribe=self._unsubscribe + self._sign(subscriber_id, "unsubscribe"),
            preferences=self._preferences + self._sign(subscriber_id, "preferences"),
        )

    def headers(self, unsubscribe_url: str) -> dict[str, str]:
        return {
            "List-Unsubscribe": f"<{unsubscribe_url}>{self._mailto}",
            "List-Unsubscribe-Post": ONE_CLICK,
            "List-Id": self._list_id,
        }
