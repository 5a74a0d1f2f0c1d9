"""Signed per-subscriber tokens for unsubscribe and preferences links.

Tokens never expire: an unsubscribe link in a years-old email must still work
(RFC 8058, and the law). They are bound to the subscriber, the list and the
purpose, so a preferences token cannot unsubscribe someone else or another list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

Purpose = Literal["unsubscribe", "preferences", "confirm", "form"]


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

    # Confirmation links and form tokens do expire: an old confirmation link
    # must not turn into consent weeks later.

    def sign_timed(self, subject: int | str, purpose: Purpose) -> str:
        serializer = URLSafeTimedSerializer(self.secret, salt=f"digest.{purpose}")
        return str(serializer.dumps({"s": subject, "l": self.list_id}))

    def verify_timed(self, token: str, purpose: Purpose, max_age: timedelta) -> int | str | None:
        """The signed subject if the token is genuine and younger than ``max_age``."""
        serializer = URLSafeTimedSerializer(self.secret, salt=f"digest.{purpose}")
        try:
            data = serializer.loads(token, max_age=int(max_age.total_seconds()))
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or data.get("l") != self.list_id:
            return None
        subject = data.get("s")
        return subject if isinstance(subject, int | str) and not isinstance(subject, bool) else None
