"""Signed per-subscriber tokens for unsubscribe and preferences links.

Tokens never expire: an unsubscribe link in a years-old email must still work
(RFC 8058, and the law). They are bound to the subscriber, the list and the
purpose, so a preferences token cannot unsubscribe someone else or another list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

Purpose = Literal["unsubscribe", "preferences"]


@dataclass(frozen=True)
class TokenSigner:
    secret: str
    list_id: str

    def _serializer(self, purpose: Purpose) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=f"digest.{purpose}")

    def sign(self, subscriber_id: int, purpose: Purpose) -> str:
        return str(self._serializer(purpose).dumps({"s": subscriber_id, "l": self.list_id}))

    def verify(self, token: str, purpose: Purpose) -> int | None:
        """The subscriber id, or None for a forged, altered or foreign token."""
        try:
            data = self._serializer(purpose).loads(token)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("l") != self.list_id:
            return None
        subscriber = data.get("s")
        return subscriber if isinstance(subscriber, int) else None
