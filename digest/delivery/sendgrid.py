"""The SendGrid backend: POST /v3/mail/send through the official ``sendgrid`` library.

:func:`build_payload` turns one message into the v3 JSON body; :class:`SendGridBackend`
posts it and maps SendGrid's answers to :class:`DeliveryError`:

==========================  ==================================================
401, 403                    DeliveryAuthError (the send stops at once)
400, 413                    permanent: SendGrid's own error messages
429                         transient, with the time the rate limit resets
5xx, timeouts, no answer    transient, naming delivery.sendgrid.api_host
==========================  ==================================================
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from digest.config import SENDGRID_KEY_ENV
from digest.delivery.base import Backend, OutgoingMessage, SendResult
from digest.delivery.mime import check_header, encode_header_value
from digest.errors import DeliveryAuthError, DeliveryError

log = logging.getLogger(__name__)

# Headers SendGrid builds itself and refuses in "headers" (the request fails with
# 400 "Header can not be one of the reserved keys"). From, To, Subject and Reply-To
# have their own fields; the rest belong to SendGrid's MTA.
RESERVED_HEADERS = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_CUSTOM_ARGS_BYTES = 10_000
AUTH_HINT = f"check {SENDGRID_KEY_ENV} (it needs the Mail Send permission)"
HOST_HINT = "check delivery.sendgrid.api_host and the network connection"


class EmailObject(TypedDict):
    email: str
    name: NotRequired[str]


class ContentObject(TypedDict):
    type: Literal["text/plain", "text/html"]
    value: str


class Personalization(TypedDict):
    to: list[EmailObject]
    subject: str
    headers: NotRequired[dict[str, str]]
    custom_args: NotRequired[dict[str, str]]


# "from" is a Python keyword, hence the functional syntax.
MailPayload = TypedDict(
    "MailPayload",
    {
        "personalizations": list[Personalization],
        "from": EmailObject,
        "reply_to": NotRequired[EmailObject],
        "content": list[ContentObject],
        "categories": NotRequired[list[str]],
    },
)


def _email_object(email: str, name: str | None) -> EmailObject:
    obj: EmailObject = {"email": email}
    if name:
        obj["name"] = name
    return obj


def _recipient_name(name: str | None) -> str | None:
    # SendGrid documents that to.name may not contain "," or ";" (it splits the
    # address list on them and then drops the message as invalid).
    if not name:
        return None
    return " ".join(re.sub(r"[,;]", " ", name).split()) or None


def _personal_headers(message: OutgoingMessage) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in message.headers.items():
        if name.lower() in RESERVED_HEADERS:
            log.warning("SendGrid does not allow the %s header; it was left out", name)
            continue
        check_header(name, value)
        # SendGrid puts values into the message as given: non-ASCII must be encoded.
        headers[name] = encode_header_value(name, value)
    # SendGrid keeps a Message-ID given here (it is not reserved), so the id stays
    # deterministic per (edition, subscriber) whichever backend sends. Date is left
    # to SendGrid: a retried message should carry the time it really left.
    headers["Message-ID"] = message.message_id
    return headers


def _categories(names: Sequence[str]) -> list[str]:
    unique = dict.fromkeys(name[:MAX_CATEGORY_LENGTH] for name in names if name)
    return list(unique)[:MAX_CATEGORIES]


def build_payload(message: OutgoingMessage, *, categories: Sequence[str] = ()) -> MailPayload:
    """The /v3/mail/send body for one message: one personalization, one recipient.

    Everything that differs per recipient (to, subject, headers, custom_args) lives
    in the personalization, so several messages of one edition can later share a
    request. ``categories`` apply when the message has none of its own. Raises
    DeliveryError(permanent=True) for messages SendGrid would refuse.
    """
    personalization: Personalization = {
        "to": [_email_object(message.to_email, _recipient_name(message.to_name))],
        "subject": message.subject,
        "headers": _personal_headers(message),
    }
    if message.custom_args:
        custom_args = {str(key): str(value) for key, value in message.custom_args.items()}
        size = len(json.dumps(custom_args).encode("utf-8"))
        if size >= MAX_CUSTOM_ARGS_BYTES:
            raise DeliveryError(
                f"custom_args for {message.to_email} take {size} bytes; "
                f"SendGrid allows less than {MAX_CUSTOM_ARGS_BYTES}",
                permanent=True,
            )
        personalization["custom_args"] = custom_args

    # text/plain must come before text/html; SendGrid refuses empty values.
    content: list[ContentObject] = []
    if message.text:
        content.append({"type": "text/plain", "value": message.text})
    if message.html:
        content.append({"type": "text/html", "value": message.html})
    if not content:
        raise DeliveryError(f"the message to {message.to_email} has no content", permanent=True)

    payload: MailPayload = {
        "personalizations": [personalization],
        "from": _email_object(message.from_email, message.from_name),
        "content": content,
    }
    if message.reply_to:
        payload["reply_to"] = _email_object(message.reply_to, None)
    chosen = _categories(message.categories or categories)
    if chosen:
        payload["categories"] = chosen
    return payload


class SendGridBackend(Backend):
    """Sends each message with one request to SendGrid's v3 Mail Send API."""

    name = "sendgrid"

    def __init__(
        self,
        api_key: str | None,
        api_host: str,
        timeout: float,
        categories: Sequence[str] = (),
    ) -> None:
        if not api_key:
            raise DeliveryAuthError(
                f"{SENDGRID_KEY_ENV} is not set",
                hint=f"export {SENDGRID_KEY_ENV} with an API key that has the Mail Send permission",
            )
        self.api_host = api_host.rstrip("/")
        self.timeout = timeout
        self.categories = tuple(categories)
        self._api_key = api_key
        self._client: Any = None

    def open(self) -> None:
        if self._client is None:
            # api_key is always given: the library would otherwise read the
            # environment on its own.
            client = SendGridAPIClient(api_key=self._api_key, host=self.api_host)
            # python_http_client passes this to urllib for every request.
            client.client.timeout = self.timeout
            self._client = client

    def close(self) -> None:
        self._client = None

    def send(self, message: OutgoingMessage) -> SendResult:
        payload = build_payload(message, categories=self.categories)
        self.open()
        try:
            response = self._client.send(payload)
        except HTTPError as err:
            raise self._refusal(err, message) from err
        # URLError (refused, DNS, TLS), TimeoutError and ConnectionError are all
        # OSErrors; IncompleteRead and BadStatusLine are HTTPExceptions.
        except (OSError, http.client.HTTPException) as err:
            raise self._unreachable(err) from err
        # 202: queued. 200 only comes back in sandbox mode: valid, but not sent.
        message_id = response.headers.get("X-Message-Id")
        return SendResult(provider_message_id=message_id or None)

    def _refusal(self, err: HTTPError, message: OutgoingMessage) -> DeliveryError:
        status = int(err.status_code)
        details = _error_details(err)
        headers: Mapping[str, str] = err.headers or {}
        if status in (401, 403):
            hint = AUTH_HINT
            if "(field: from)" in details:
                hint += "; newsletter.from_email must also be a verified sender in SendGrid"
            return DeliveryAuthError(
                f"SendGrid refused the request (HTTP {status}): {details}", hint=hint
            )
        if status in (400, 413):
            return DeliveryError(
                f"SendGrid rejected the message to {message.to_email} (HTTP {status}): {details}",
                permanent=True,
            )
        if status == 429:
            return DeliveryError(
                f"SendGrid rate limit reached (HTTP 429){_reset_time(headers)}: {details}",
                permanent=False,
                hint="the send can be resumed later",
            )
        if status >= 500:
            return DeliveryError(
                f"SendGrid had a server error (HTTP {status}): {details}", permanent=False
            )
        # 404, 405, 415...: most likely api_host does not point at the v3 API.
        return DeliveryError(
            f"unexpected answer from SendGrid at {self.api_host} (HTTP {status}): {details}",
            permanent=False,
            hint="check delivery.sendgrid.api_host (e.g. https://api.sendgrid.com)",
        )

    def _unreachable(self, err: BaseException) -> DeliveryError:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        if isinstance(reason, TimeoutError):
            what = f"did not answer within {self.timeout:g} seconds"
            hint = f"{HOST_HINT}, or raise delivery.sendgrid.timeout"
        elif isinstance(err, http.client.IncompleteRead):
            what = "broke off its answer"
            hint = HOST_HINT
        elif isinstance(err, http.client.RemoteDisconnected | ConnectionResetError):
            what = "closed the connection without an answer"
            hint = HOST_HINT
        else:
            # Refused, DNS, TLS: the request never reached SendGrid, a retry is safe.
            what = f"could not be reached ({reason})"
            return DeliveryError(f"SendGrid at {self.api_host} {what}", hint=HOST_HINT)
        # The request may have been accepted before the answer was lost: a
        # blind retry could deliver the edition twice.
        return DeliveryError(
            f"SendGrid at {self.api_host} {what}", permanent=False, uncertain=True, hint=hint
        )


def _error_details(err: HTTPError) -> str:
    """SendGrid's own messages from ``{"errors": [{"message", "field", "help"}]}``."""
    body = err.body if isinstance(err.body, bytes) else str(err.body or "").encode()
    try:
        errors = json.loads(body.decode("utf-8"))["errors"]
        parts = []
        for item in errors:
            text = str(item.get("message") or "").strip()
            if item.get("field"):
                text += f" (field: {item['field']})"
            if text:
                parts.append(text)
        if parts:
            return "; ".join(parts)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    text = body.decode("utf-8", "replace").strip()
    return text[:300] if text else str(err.reason or "no details")


def _reset_time(headers: Mapping[str, str]) -> str:
    raw = headers.get("X-RateLimit-Reset")
    if not raw:
        return ""
    try:
        when = datetime.fromtimestamp(int(raw), UTC)
    except (ValueError, OverflowError, OSError):
        return f"; X-RateLimit-Reset: {raw}"
    return f"; it resets at {when:%Y-%m-%d %H:%M:%S} UTC (X-RateLimit-Reset {raw})"
