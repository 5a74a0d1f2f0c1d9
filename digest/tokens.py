"""Signed per-subscriber tokens for unsubscribe and preferences links.

Tokens never expire: an unsubscribe link in a years-old email must still work
(RFC 8058, and the law). They are bound to the subscriber, the list and the
purpose, so a preferences token cannot unsubscribe someone else or another list.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Literal

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

Purpose = Literal["unsubscribe", "preferences", "confirm", "form"]


@dataclass(frozen=True)
class TokenSigner:
    secret: str
    list_id: str

    @cached_property
    def _signers(self) -> dict[str, Signer]:
        # One key per purpose and list, derived once: signing is then a single
        # HMAC (a few microseconds), which matters at a million links per edition.
        def signer(purpose: str) -> Signer:
            key = hmac.new(
                self.secret.encode(), f"digest.{purpose}.{self.list_id}".encode(), hashlib.sha256
            ).digest()
            return Signer(key, key_derivation="none", digest_method=hashlib.sha256)

        return {purpose: signer(purpose) for purpose in ("unsubscribe", "preferences")}

    def sign(self, subscriber_id: int, purpose: Purpose) -> str:
        """A token like ``42.<signature>`` for a link that never expires."""
        return self._signers[purpose].sign(str(subscriber_id)).decode()

    def verify(self, token: str, purpose: Purpose) -> int | None:
        """The subscriber id, or None for a forged, altered or foreign token."""
        signer = self._signers.get(purpose)
        if signer is None:
            return None
        try:
            value = signer.unsign(token).decode()
        except (BadSignature, UnicodeError, ValueError):
            return None
        return int(value) if value.isdigit() else None

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
