"""Talking to SendGrid's v3 API: one request, one classified :class:`Answer`.

``POST /v3/mail/send`` goes through :func:`post_json`: urllib, exactly as the
official library's python_http_client does it (same opener, headers and
exception classes), but with a body we encode once ourselves. The library
would ``json.dumps`` with ``ensure_ascii`` and eagerly format the whole payload
into a debug log message on every request; for a 1000-recipient request that
is about 10 ms of the one core the GIL gives us. The other endpoints use the
library client. Every call ends in one of these kinds:

============  ===============================================================
accepted      2xx (202 queued; 200 in sandbox mode: valid, but not sent)
refused       400, 413: SendGrid's own error messages and fields
auth          401, 403: the API key (or the sender) is refused
rate_limited  429, with the X-RateLimit-Reset time when given
server_error  5xx
unexpected    any other status: most likely api_host is not the v3 API
not_sent      urllib's URLError: refused, DNS, TLS, or a timeout or reset
              while connecting or sending. The request never arrived whole,
              so sending it again is safe.
uncertain     no answer after the request was sent (read timeout,
              RemoteDisconnected, reset or IncompleteRead while reading, all
              raised unwrapped by urllib's getresponse): SendGrid may have
              accepted it, so it must not be resent blindly.
============  ===============================================================

The scheduled-send helpers (:func:`create_batch_id`, :func:`cancel_scheduled`)
live here too; they raise :class:`DeliveryError` mapped from the same kinds.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from python_http_client.exceptions import HTTPError, handle_error
from sendgrid import SendGridAPIClient
from sendgrid import __version__ as sendgrid_version

from digest.config import SENDGRID_KEY_ENV, Settings
from digest.errors import DeliveryAuthError, DeliveryError

AUTH_HINT = f"check {SENDGRID_KEY_ENV} (it needs the Mail Send permission)"
HOST_HINT = "check delivery.sendgrid.api_host and the network connection"
# SendGrid refuses send_at more than 72 hours ahead.
MAX_SCHEDULE_AHEAD = timedelta(hours=72)

Kind = Literal[
    "accepted",
    "refused",
    "auth",
    "rate_limited",
    "server_error",
    "unexpected",
    "not_sent",
    "uncertain",
]


@dataclass(frozen=True)
class Answer:
    """What one request came to; ``error`` is set for every kind but accepted."""

    kind: Kind
    error: DeliveryError | None = None
    status: int | None = None
    # SendGrid's messages, each with "(field: ...)" when it names one.
    details: str = ""
    # The "field" of each error, e.g. "personalizations.3.to.0.email".
    fields: tuple[str, ...] = ()
    # X-RateLimit-Reset (Unix seconds) of a 429.
    reset: str | None = None
    message_id: str | None = None
    body: bytes = b""

    @property
    def message(self) -> str:
        return self.error.message if self.error is not None else ""


# What the library sends, so SendGrid sees the same client either way.
USER_AGENT = f"sendgrid/{sendgrid_version};python"
MAIL_SEND_PATH = "/v3/mail/send"


def encode_json(body: Any) -> bytes:
    """Compact UTF-8 JSON (SendGrid reads UTF-8; escaping non-ASCII only costs time)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class RawResponse:
    """The parts of an answer :func:`call` reads (as python_http_client's Response)."""

    status_code: int
    headers: Any
    body: bytes


def post_json(url: str, api_key: str, data: bytes, timeout: float) -> RawResponse:
    """POST encoded JSON the way python_http_client does.

    Raises the library's HTTPError subclass for a status of 400 and up, and
    urllib's own errors otherwise (URLError while connecting or sending,
    unwrapped ones while reading the answer), which :func:`call` classifies.
    """
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Authorization": f"Bearer {api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
    )
    try:
        # A fresh opener per request, like the library: no shared mutable state
        # between the threads sending batches.
        with urllib.request.build_opener().open(request, timeout=timeout) as response:
            return RawResponse(response.status, response.headers, response.read())
    except urllib.error.HTTPError as err:
        raise handle_error(err) from None


def open_client(api_key: str, api_host: str, timeout: float) -> Any:
    """A library client that never falls back to the environment for its key."""
    client = SendGridAPIClient(api_key=api_key, host=api_host)
    # python_http_client passes this to urllib for every request.
    client.client.timeout = timeout
    return client


def call(request: Callable[[], Any], api_host: str, timeout: float) -> Answer:
    """Run one library request and classify how it ended (never raises for I/O)."""
    try:
        response = request()
    except HTTPError as err:
        return http_answer(err, api_host)
    except urllib.error.URLError as err:
        # urllib wraps exactly the errors of connecting and sending the request.
        return not_sent(err, api_host, timeout)
    # TimeoutError, ConnectionError (RemoteDisconnected, reset) and
    # HTTPException (IncompleteRead, BadStatusLine) from reading the answer.
    except (OSError, http.client.HTTPException) as err:
        return uncertain(err, api_host, timeout)
    headers = response.headers
    message_id = headers.get("X-Message-Id") if headers is not None else None
    return Answer(
        "accepted",
        status=int(response.status_code),
        message_id=message_id or None,
        body=response.body or b"",
    )


def http_answer(err: HTTPError, api_host: str) -> Answer:
    status = int(err.status_code)
    details, fields = error_details(err)
    headers: Mapping[str, str] = err.headers or {}
    if status in (401, 403):
        hint = AUTH_HINT
        if "from" in fields or "from.email" in fields:
            hint += "; newsletter.from_email must also be a verified sender in SendGrid"
        error: DeliveryError = DeliveryAuthError(
            f"SendGrid refused the request (HTTP {status}): {details}", hint=hint
        )
        return Answer("auth", error, status, details, fields)
    if status in (400, 413):
        error = DeliveryError(
            f"SendGrid refused the request (HTTP {status}): {details}", permanent=True
        )
        return Answer("refused", error, status, details, fields)
    if status == 429:
        reset = headers.get("X-RateLimit-Reset")
        error = DeliveryError(
            f"SendGrid rate limit reached (HTTP 429){reset_time(reset)}: {details}",
            hint="the send can be resumed later",
        )
        return Answer("rate_limited", error, status, details, fields, reset=reset)
    if status >= 500:
        error = DeliveryError(f"SendGrid had a server error (HTTP {status}): {details}")
        return Answer("server_error", error, status, details, fields)
    # 404, 405, 415...: most likely api_host does not point at the v3 API.
    error = DeliveryError(
        f"unexpected answer from SendGrid at {api_host} (HTTP {status}): {details}",
        hint="check delivery.sendgrid.api_host (e.g. https://api.sendgrid.com)",
    )
    return Answer("unexpected", error, status, details, fields)


def not_sent(err: urllib.error.URLError, api_host: str, timeout: float) -> Answer:
    reason = err.reason
    if isinstance(reason, TimeoutError):
        what = f"could not be reached within {timeout:g} seconds"
        hint = f"{HOST_HINT}, or raise delivery.sendgrid.timeout"
    else:
        what = f"could not be reached ({reason})"
        hint = HOST_HINT
    return Answer("not_sent", DeliveryError(f"SendGrid at {api_host} {what}", hint=hint))


def uncertain(err: BaseException, api_host: str, timeout: float) -> Answer:
    hint = HOST_HINT
    if isinstance(err, TimeoutError):
        what = f"did not answer within {timeout:g} seconds"
        hint = f"{HOST_HINT}, or raise delivery.sendgrid.timeout"
    elif isinstance(err, http.client.IncompleteRead):
        what = "broke off its answer"
    elif isinstance(err, http.client.RemoteDisconnected | ConnectionResetError):
        what = "closed the connection without an answer"
    else:
        what = f"failed while answering ({err!r})"
    # The request may have been accepted before the answer was lost: a blind
    # retry could deliver the edition twice.
    error = DeliveryError(f"SendGrid at {api_host} {what}", uncertain=True, hint=hint)
    return Answer("uncertain", error)


def error_details(err: HTTPError) -> tuple[str, tuple[str, ...]]:
    """SendGrid's messages and fields from ``{"errors": [{"message", "field", "help"}]}``."""
    body = err.body if isinstance(err.body, bytes) else str(err.body or "").encode()
    try:
        errors = json.loads(body.decode("utf-8"))["errors"]
        parts: list[str] = []
        fields: list[str] = []
        for item in errors:
            text = str(item.get("message") or "").strip()
            field = item.get("field")
            if field and field != "null":
                text += f" (field: {field})"
                fields.append(str(field))
            if text:
                parts.append(text)
        if parts:
            return "; ".join(parts), tuple(fields)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    text = body.decode("utf-8", "replace").strip()
    return (text[:300] if text else str(err.reason or "no details")), ()


def reset_time(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        when = datetime.fromtimestamp(int(raw), UTC)
    except (ValueError, OverflowError, OSError):
        return f"; X-RateLimit-Reset: {raw}"
    return f"; it resets at {when:%Y-%m-%d %H:%M:%S} UTC (X-RateLimit-Reset {raw})"


def check_send_at(send_at: datetime, now: datetime) -> int:
    """``send_at`` as Unix seconds; DeliveryError(permanent) beyond SendGrid's 72 hours."""
    if send_at.tzinfo is None:
        raise DeliveryError(f"send_at {send_at:%Y-%m-%d %H:%M} has no time zone", permanent=True)
    ahead = send_at - now
    if ahead > MAX_SCHEDULE_AHEAD:
        hours = ahead.total_seconds() / 3600
        raise DeliveryError(
            f"send_at {send_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC is {hours:.1f} hours ahead; "
            "SendGrid schedules at most 72 hours ahead",
            permanent=True,
            hint="choose a send time within the next 72 hours",
        )
    return int(send_at.timestamp())


# --- Scheduled sends: POST /v3/mail/batch, POST /v3/user/scheduled_sends ------------

SCHEDULE_HINT = f"check {SENDGRID_KEY_ENV} (it needs access to Mail Send and Scheduled Sends)"


def _settings_client(settings: Settings) -> tuple[Any, str, float]:
    key = settings.sendgrid_api_key
    if not key:
        raise DeliveryAuthError(
            f"{SENDGRID_KEY_ENV} is not set",
            hint=f"export {SENDGRID_KEY_ENV} with an API key that has the Mail Send permission",
        )
    section = settings.delivery.sendgrid
    host = section.api_host.rstrip("/")
    timeout = section.timeout.total_seconds()
    return open_client(key, host, timeout), host, timeout


def _raise_for(answer: Answer, what: str) -> None:
    if answer.kind == "accepted" or answer.error is None:
        return
    error = answer.error
    if answer.kind == "auth":
        raise DeliveryAuthError(f"{what}: {error.message}", hint=SCHEDULE_HINT) from None
    raise DeliveryError(
        f"{what}: {error.message}",
        permanent=error.permanent,
        uncertain=error.uncertain,
        hint=error.hint,
    ) from None


def _json(answer: Answer) -> Any:
    try:
        return json.loads(answer.body.decode("utf-8")) if answer.body else None
    except ValueError:
        return None


def create_batch_id(settings: Settings) -> str:
    """A new batch id (POST /v3/mail/batch) to pass as ``batch_id`` with ``send_at``.

    Raises DeliveryAuthError for a refused key and DeliveryError otherwise.
    """
    client, host, timeout = _settings_client(settings)
    answer = call(lambda: client.client.mail.batch.post(), host, timeout)
    _raise_for(answer, "could not create a SendGrid batch id")
    data = _json(answer)
    batch_id = data.get("batch_id") if isinstance(data, dict) else None
    if not isinstance(batch_id, str) or not batch_id:
        raise DeliveryError(
            f"SendGrid at {host} answered POST /v3/mail/batch without a batch_id",
            hint="check delivery.sendgrid.api_host (e.g. https://api.sendgrid.com)",
        )
    return batch_id


def scheduled_status(settings: Settings, batch_id: str) -> str | None:
    """ "cancel", "pause", or None when no status is set (GET /v3/user/scheduled_sends/{id})."""
    client, host, timeout = _settings_client(settings)
    answer = call(lambda: client.client.user.scheduled_sends._(batch_id).get(), host, timeout)
    _raise_for(answer, f"could not read the status of SendGrid batch {batch_id}")
    data = _json(answer)
    entries = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("batch_id") in (batch_id, None):
            status = entry.get("status")
            if isinstance(status, str):
                return status
    return None


def cancel_scheduled(settings: Settings, batch_id: str) -> bool:
    """Cancel every message scheduled with ``batch_id``; True if this call cancelled it.

    False when it was cancelled before (SendGrid answers 400 to a second
    cancellation; the status then says so). A paused batch is switched to
    cancelled. SendGrid does not guarantee a cancellation less than 10
    minutes before ``send_at``.
    """
    client, host, timeout = _settings_client(settings)
    body = {"batch_id": batch_id, "status": "cancel"}
    answer = call(lambda: client.client.user.scheduled_sends.post(request_body=body), host, timeout)
    if answer.kind == "refused":
        status = scheduled_status(settings, batch_id)
        if status == "cancel":
            return False
        if status == "pause":
            patch = {"status": "cancel"}
            answer = call(
                lambda: client.client.user.scheduled_sends._(batch_id).patch(request_body=patch),
                host,
                timeout,
            )
    _raise_for(answer, f"could not cancel SendGrid batch {batch_id}")
    return True
