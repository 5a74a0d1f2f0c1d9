"""The delivery interface: one small base class, one module per backend.

A backend only hands messages to a transport. Choosing recipients, the ledger
that prevents double sends, resuming and reporting live in
:mod:`digest.delivery.send`, so every backend gets the same guarantees.

Two ways in: :meth:`Backend.send` takes one finished message;
:meth:`Backend.send_batch` takes a rendered edition variant and up to
``batch_size`` recipients and says, per recipient, what happened. The default
``send_batch`` personalizes locally and calls ``send`` for each recipient; a
provider that substitutes per-recipient values itself (SendGrid) overrides it
and sends the whole batch in one request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import ClassVar

from digest.errors import DeliveryAuthError, DeliveryError
from digest.render import Personalization, RenderedEdition, personalize


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


@dataclass(frozen=True)
class BatchRecipient:
    """One recipient of a batch, with everything that differs per recipient."""

    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    # Fills the rendering's placeholders (links, address, name).
    personalization: Personalization
    # List-Unsubscribe, List-Unsubscribe-Post, List-Id.
    headers: dict[str, str]
    message_id: str
    custom_args: dict[str, str]


@dataclass(frozen=True)
class Batch:
    """One rendered variant of an edition and the recipients it goes to."""

    rendered: RenderedEdition
    recipients: list[BatchRecipient]
    from_email: str
    from_name: str
    reply_to: str | None
    categories: tuple[str, ...]
    date: datetime

    def message(self, recipient: BatchRecipient) -> OutgoingMessage:
        """The finished message for one recipient (for backends that send one by one)."""
        personal = personalize(self.rendered, recipient.personalization)
        return OutgoingMessage(
            to_email=recipient.email,
            to_name=recipient.name,
            from_email=self.from_email,
            from_name=self.from_name,
            reply_to=self.reply_to,
            subject=personal.subject,
            text=personal.text,
            html=personal.html,
            message_id=recipient.message_id,
            date=self.date,
            headers=recipient.headers,
            custom_args=recipient.custom_args,
            categories=self.categories,
        )


@dataclass
class BatchOutcome:
    """What happened to each recipient of a batch, by delivery id.

    Every recipient of the batch appears in exactly one of the four maps.
    """

    # Taken by the transport, with the provider's message id if any.
    accepted: dict[int, str | None] = field(default_factory=dict)
    # Refused for good (bad address, rejected content): never retried.
    failed: dict[int, str] = field(default_factory=dict)
    # Not sent and safe to send again: left pending for the next run.
    retry: dict[int, str] = field(default_factory=dict)
    # May or may not have gone out: never resent blindly.
    uncertain: dict[int, str] = field(default_factory=dict)
    # Set when the whole run must stop after this batch: credentials refused, or
    # the provider refuses the message itself (not one recipient), so every
    # further batch would fail the same way. Unsent recipients are in `retry`.
    stop: DeliveryError | None = None

    def settled(self) -> int:
        return len(self.accepted) + len(self.failed) + len(self.retry) + len(self.uncertain)


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

    # Recipients per send_batch call. One for backends that send one by one:
    # the ledger then claims each message separately, so a crash leaves at most
    # one recipient uncertain.
    max_batch_size: ClassVar[int] = 1

    def send_batch(self, batch: Batch) -> BatchOutcome:
        """Send to every recipient of ``batch``; never raises for one recipient's problem.

        The default sends one message per recipient. After refused credentials
        the rest of the batch is left for a later run and ``stop`` is set.
        """
        outcome = BatchOutcome()
        for index, recipient in enumerate(batch.recipients):
            try:
                result = self.send(batch.message(recipient))
            except DeliveryAuthError as err:
                outcome.stop = err
                for rest in batch.recipients[index:]:
                    outcome.retry[rest.delivery_id] = err.message
                break
            except DeliveryError as err:
                if err.uncertain:
                    outcome.uncertain[recipient.delivery_id] = err.message
                elif err.permanent:
                    outcome.failed[recipient.delivery_id] = err.message
                else:
                    outcome.retry[recipient.delivery_id] = err.message
            else:
                outcome.accepted[recipient.delivery_id] = result.provider_message_id
        return outcome

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
