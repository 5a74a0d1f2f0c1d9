"""The delivery interface: one small base class, one module per backend.

A backend only hands finished messages to a transport. Choosing recipients,
the ledger that prevents double sends, and retries live in
:mod:`digest.delivery.send`, so every backend gets the same guarantees.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import ClassVar


@dataclass(frozen=True)
class OutgoingMessage:
    """One personalized email, ready for any backend."""

    to_email: str
    to_name: str | None
    from_email: str
    from_name: str
    subject: str
    text: str
    html: str
    # RFC 5322 Message-ID including the angle brackets; deterministic per
    # (edition, subscriber) so a receiving system can spot a duplicate too.
    message_id: str
    # The Date header; injected so a re-run writes identical files.
    date: datetime | None = None
    reply_to: str | None = None
    # Extra headers, e.g. List-Unsubscribe, List-Unsubscribe-Post, List-Id.
    headers: dict[str, str] = field(default_factory=dict)
    # Ids that come back in provider events (SendGrid custom_args).
    custom_args: dict[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None = None


class Backend(ABC):
    """Hands messages to one transport.

    Subclasses implement :meth:`send`, and :meth:`open`/:meth:`close` when they
    hold a connection. ``send`` must either return (the transport accepted the
    message) or raise :class:`digest.errors.DeliveryError` with ``permanent``
    set when retrying cannot help, or :class:`digest.errors.DeliveryAuthError`
    when credentials are refused (the send loop then stops at once).
    """

    name: ClassVar[str]

    def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the transport (connect, create folders)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the transport."""

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand one message to the transport."""

    def __enter__(self) -> Backend:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
