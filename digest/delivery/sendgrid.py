"""The SendGrid backend: POST /v3/mail/send, one message or one batch per request.

:meth:`SendGridBackend.send` posts one finished message and raises
:class:`DeliveryError` for SendGrid's refusals (see :mod:`.sendgrid_api` for
the mapping). :meth:`SendGridBackend.send_batch` sends a rendered edition
variant to up to 1000 recipients in one request, with per-recipient values as
SendGrid substitutions (see :mod:`.sendgrid_batch`), and settles every
recipient:

==========================  ==================================================
checked before sending      bad address, oversized personal values → failed;
                            the same address twice → retry (a later batch)
202 / 200 (sandbox)         accepted, with the request's X-Message-Id
400, 413                    more than one recipient: split and sent again, so
                            only the refused recipients fail (with SendGrid's
                            message); a 400 about the message itself (from,
                            content, asm...) stops the run, all → retry
401, 403                    stop, all → retry
429                         wait until X-RateLimit-Reset, then again
5xx, request not sent       back off and again, until delivery.retry_deadline
                            from the batch's first attempt; then all → retry
no answer after sending     uncertain, never sent again (it may have arrived)
==========================  ==================================================
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from digest.config import SENDGRID_KEY_ENV
from digest.delivery.base import Backend, Batch, BatchOutcome, OutgoingMessage, SendResult
from digest.delivery.retry import RetryBudget, RetryPolicy
from digest.delivery.sendgrid_api import (
    AUTH_HINT,
    HOST_HINT,
    MAIL_SEND_PATH,
    Answer,
    call,
    cancel_scheduled,
    check_send_at,
    create_batch_id,
    encode_json,
    post_json,
    scheduled_status,
)
from digest.delivery.sendgrid_batch import (
    Prepared,
    TemplateCache,
    VariantTemplate,
    prepare,
    request_body,
    split,
    too_large,
)
from digest.delivery.sendgrid_payload import (
    MAX_PERSONALIZATIONS,
    MAX_REQUEST_BYTES,
    SendOptions,
    build_payload,
)
from digest.errors import DeliveryAuthError, DeliveryError

__all__ = [
    "AUTH_HINT",
    "HOST_HINT",
    "SendGridBackend",
    "build_payload",
    "cancel_scheduled",
    "create_batch_id",
    "scheduled_status",
]

# "personalizations.3.to.0.email" (or "[3]") → 3: the recipient a 400 is about.
_PERSONALIZATION_FIELD = re.compile(r"personalizations(?:\.|\[)(\d+)\]?(?:\.|$)")


class SendGridBackend(Backend):
    """Sends through SendGrid's v3 Mail Send API; thread-safe for concurrent batches."""

    name = "sendgrid"
    max_batch_size: ClassVar[int] = MAX_PERSONALIZATIONS

    def __init__(
        self,
        api_key: str | None,
        api_host: str,
        timeout: float,
        categories: Sequence[str] = (),
        *,
        batch_size: int = MAX_PERSONALIZATIONS,
        asm_group_id: int | None = None,
        sandbox: bool = False,
        send_at: datetime | None = None,
        batch_id: str | None = None,
        retry_deadline: float = 600.0,
        retry: RetryPolicy | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``retry`` overrides the policy built from ``retry_deadline`` (tests inject
        sleep, clocks and randomness there). ``send_at`` (time-zone aware, at most
        72 hours after ``now()``) and ``batch_id`` schedule every message; raises
        DeliveryError(permanent) for a ``send_at`` SendGrid would refuse and
        DeliveryAuthError without an API key.
        """
        if not api_key:
            raise DeliveryAuthError(
                f"{SENDGRID_KEY_ENV} is not set",
                hint=f"export {SENDGRID_KEY_ENV} with an API key that has the Mail Send permission",
            )
        self.api_host = api_host.rstrip("/")
        self.timeout = timeout
        self.categories = tuple(categories)
        self.batch_size = max(1, min(batch_size, MAX_PERSONALIZATIONS))
        self.options = SendOptions(
            categories=self.categories,
            asm_group_id=asm_group_id,
            sandbox=sandbox,
            send_at=None if send_at is None else check_send_at(send_at, now()),
            batch_id=batch_id,
        )
        self.retry = retry or RetryPolicy(retry_deadline, wall_clock=time.time)
        self._api_key = api_key
        self._send_url = self.api_host + MAIL_SEND_PATH
        self._templates = TemplateCache()

    # --- one message -----------------------------------------------------------

    def send(self, message: OutgoingMessage) -> SendResult:
        payload = build_payload(message, categories=self.categories)
        self.options.apply(payload, message.categories or self.categories)
        answer = self._post(encode_json(payload))
        if answer.kind == "accepted":
            return SendResult(provider_message_id=answer.message_id)
        assert answer.error is not None
        if answer.kind == "refused":
            raise DeliveryError(
                f"SendGrid rejected the message to {message.to_email} "
                f"(HTTP {answer.status}): {answer.details}",
                permanent=True,
            )
        raise answer.error

    # --- a batch ---------------------------------------------------------------

    def send_batch(self, batch: Batch) -> BatchOutcome:
        """One request per up to ``batch_size`` recipients; never raises for a recipient.

        See the module docstring for what happens to each recipient.
        """
        outcome = BatchOutcome()
        template = self._templates.get(batch, self.options)
        prepared = prepare(template, batch.recipients, outcome)
        for item in too_large(prepared, template):
            outcome.failed[item.recipient.delivery_id] = (
                f"the message to {item.recipient.email} would pass SendGrid's 30 MB limit"
            )
        parts = deque(split(prepared, template, self.batch_size))
        budget = self.retry.start()
        while parts:
            part = parts.popleft()
            if outcome.stop is not None:
                _settle(outcome.retry, part, f"not sent: {outcome.stop.message}")
                continue
            if budget.exhausted:
                _settle(outcome.retry, part, "not sent: the batch ran out of retry time")
                continue
            answer = self._post_with_retries(template, part, budget)
            self._settle_answer(answer, part, parts, outcome, budget)
        return outcome

    def _post_with_retries(
        self, template: VariantTemplate, part: list[Prepared], budget: RetryBudget
    ) -> Answer:
        data = request_body(template, part)
        while True:
            answer = self._post(data)
            if answer.kind == "rate_limited":
                if budget.after_rate_limit(answer.reset):
                    continue
            elif answer.kind in ("server_error", "not_sent"):
                if budget.after_failure():
                    continue
            elif answer.kind in ("accepted", "refused"):
                budget.succeeded()
            return answer

    def _settle_answer(
        self,
        answer: Answer,
        part: list[Prepared],
        parts: deque[list[Prepared]],
        outcome: BatchOutcome,
        budget: RetryBudget,
    ) -> None:
        kind = answer.kind
        if kind == "accepted":
            _settle(outcome.accepted, part, answer.message_id)
        elif kind == "refused":
            self._isolate(answer, part, parts, outcome)
        elif kind == "auth":
            assert isinstance(answer.error, DeliveryAuthError)
            outcome.stop = answer.error
            _settle(outcome.retry, part, answer.message)
        elif kind == "uncertain":
            _settle(outcome.uncertain, part, answer.message)
        elif kind == "unexpected":
            # Every request of the run would get the same answer.
            outcome.stop = _stopping(answer)
            _settle(outcome.retry, part, answer.message)
        else:  # rate_limited, server_error, not_sent: out of retry time
            budget.give_up()
            waited = f"{budget.waited:.3g}"
            _settle(
                outcome.retry,
                part,
                f"{answer.message}; still failing after {waited} s of retries "
                "(delivery.retry_deadline); left for the next run",
            )

    def _isolate(
        self,
        answer: Answer,
        part: list[Prepared],
        parts: deque[list[Prepared]],
        outcome: BatchOutcome,
    ) -> None:
        """Find the recipients a 400 (or 413) is about by sending smaller requests."""
        named: set[int] = set()
        about_message = False
        for field in answer.fields:
            match = _PERSONALIZATION_FIELD.match(field)
            if match and int(match[1]) < len(part):
                named.add(int(match[1]))
            elif not field.startswith("personalizations"):
                about_message = True
        if about_message and not named and answer.status == 400:
            # "from", "content", "asm.group_id"...: no recipient is to blame and
            # every request would be refused the same way.
            outcome.stop = _stopping(answer)
            _settle(outcome.retry, part, answer.message)
            return
        if len(part) == 1:
            recipient = part[0].recipient
            outcome.failed[recipient.delivery_id] = (
                f"SendGrid refused {recipient.email} (HTTP {answer.status}): {answer.details}"
            )
            return
        if named:
            # Each named recipient alone (its own error, or accepted if the index
            # was wrong), the others together.
            rest = [item for index, item in enumerate(part) if index not in named]
            if rest:
                parts.appendleft(rest)
            for index in sorted(named, reverse=True):
                parts.appendleft([part[index]])
            return
        middle = len(part) // 2
        parts.appendleft(part[middle:])
        parts.appendleft(part[:middle])

    def _post(self, data: bytes) -> Answer:
        if len(data) >= MAX_REQUEST_BYTES:
            # The size bound in split() makes this rare; handled like SendGrid's 413.
            details = f"the request takes {len(data)} bytes; SendGrid takes less than 30 MB"
            return Answer("refused", DeliveryError(details, permanent=True), 413, details)
        url, key, timeout = self._send_url, self._api_key, self.timeout
        return call(lambda: post_json(url, key, data, timeout), self.api_host, timeout)


def _settle(target: dict[int, Any], part: list[Prepared], value: Any) -> None:
    for item in part:
        target[item.recipient.delivery_id] = value


def _stopping(answer: Answer) -> DeliveryAuthError:
    """The error that stops the run when no request can succeed with these settings."""
    # BatchOutcome.stop takes a DeliveryAuthError: the send loop then stops
    # after this batch and reports it, leaving everything pending.
    hint = (
        "check newsletter.from_email, newsletter.reply_to and the delivery.sendgrid "
        "settings (asm_group_id, categories); the recipients stay pending"
    )
    if answer.kind == "unexpected" and answer.error is not None and answer.error.hint:
        hint = answer.error.hint
    return DeliveryAuthError(f"SendGrid refused every message: {answer.message}", hint=hint)
