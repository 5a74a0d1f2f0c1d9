"""Provider webhooks: the SendGrid Event Webhook at ``POST /webhooks/sendgrid``.

Validate, then parse, then dispatch:

1. Validate. The request must carry SendGrid's signature
   (``X-Twilio-Email-Event-Webhook-Signature``: base64 DER ECDSA P-256/SHA-256
   over the ``X-Twilio-Email-Event-Webhook-Timestamp`` value followed by the raw
   body), made with the key in ``delivery.sendgrid.webhook_public_key``, and a
   timestamp within ``delivery.sendgrid.webhook_max_age`` of now, so a captured
   request cannot be replayed later. Anything else is a 403 with a vague body;
   the reason goes to the server log only. No key configured: 503.
2. Parse. An authentic body that is not a JSON array of events is a 400.
3. Dispatch. Each event is stored and acted on (:mod:`digest.events`) once,
   keyed on its ``sg_event_id``, then 200. Any failure there is a 500: SendGrid
   retries non-2xx answers for up to 24 hours, and events already stored are
   skipped then.

Routes are mounted by :func:`digest.web.app.create_app`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from digest import events
from digest.store.db import Database

if TYPE_CHECKING:
    from digest.web.app import WebContext

log = logging.getLogger(__name__)

KEY_SETTING = "delivery.sendgrid.webhook_public_key"
# SendGrid stamps a request when it sends it; a little clock skew the other way
# is tolerated, a timestamp further ahead is as suspect as a stale one.
MAX_FUTURE_SKEW = timedelta(minutes=5)
# The body is read before it can be verified; this bounds what an anonymous
# client can make us hold in memory. SendGrid's batches are far smaller.
MAX_BODY_BYTES = 32 * 1024 * 1024


@lru_cache(maxsize=4)
def _public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    """The configured verification key (base64 DER, as SendGrid shows it), parsed once."""
    key = EventWebhook().convert_public_key_to_ecdsa(encoded.strip())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic curve key")
    return key


def _refusal(
    headers: Headers,
    body: bytes,
    key: ec.EllipticCurvePublicKey,
    *,
    now: datetime,
    max_age: timedelta,
) -> str | None:
    """Why the request is not an authentic, fresh SendGrid request; None if it is."""
    signature = headers.get(EventWebhookHeader.SIGNATURE)
    timestamp = headers.get(EventWebhookHeader.TIMESTAMP)
    if not signature or not timestamp:
        return "signature or timestamp header missing"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return f"timestamp {timestamp[:40]!r} is not unix seconds"
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    except (OverflowError, OSError, ValueError):
        return f"timestamp {timestamp[:40]!r} is out of range"
    if now - signed_at > max_age:
        return f"signed at {signed_at:%Y-%m-%d %H:%M:%S} UTC, older than {max_age}"
    if signed_at - now > MAX_FUTURE_SKEW:
        return f"signed at {signed_at:%Y-%m-%d %H:%M:%S} UTC, in the future"
    try:
        der_signature = base64.b64decode(signature, validate=True)
        # The exact bytes received, never a re-serialization: the signature
        # covers them. (An ECDSA check involves no secret, so there is no
        # comparison whose timing could leak one.)
        key.verify(der_signature, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, InvalidSignature, ValueError):
        return "signature does not verify"
    return None


async def _body(request: Request) -> bytes | None:
    """The raw body, or None if it is larger than MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _record(db: Database, parsed: list[events.ParsedEvent], now: datetime) -> events.RecordReport:
    with db.session() as session:
        return events.record_events(session, parsed, now=now)


def _forbidden() -> Response:
    # Deliberately uninformative: a prober learns nothing about what failed.
    return PlainTextResponse("Forbidden.", status_code=403)


async def sendgrid_events(request: Request) -> Response:
    ctx: WebContext = request.app.state.context
    config = ctx.settings.delivery.sendgrid
    if not config.webhook_public_key:
        log.error("SendGrid Event Webhook request refused: %s is not set", KEY_SETTING)
        return PlainTextResponse("Not configured.", status_code=503)
    try:
        key = _public_key(config.webhook_public_key)
    except ValueError:
        log.error("SendGrid Event Webhook request refused: %s is not a valid key", KEY_SETTING)
        return PlainTextResponse("Not configured.", status_code=503)
    if not (
        request.headers.get(EventWebhookHeader.SIGNATURE)
        and request.headers.get(EventWebhookHeader.TIMESTAMP)
    ):
        # Checked before the body is read: most stray requests stop here.
        log.warning("SendGrid Event Webhook request refused: signature headers missing")
        return _forbidden()
    body = await _body(request)
    if body is None:
        log.warning("SendGrid Event Webhook request refused: body over %d bytes", MAX_BODY_BYTES)
        return PlainTextResponse("Too large.", status_code=413)
    now = ctx.clock()
    problem = _refusal(request.headers, body, key, now=now, max_age=config.webhook_max_age)
    if problem is not None:
        log.warning("SendGrid Event Webhook request refused: %s", problem)
        return _forbidden()

    try:
        parsed = events.parse_batch(body, now=now)
    except events.InvalidPayload as err:
        log.warning("SendGrid Event Webhook request refused: %s", err)
        return PlainTextResponse("Bad request.", status_code=400)

    try:
        # The database is synchronous; keep it off the event loop.
        report = await run_in_threadpool(_record, ctx.db, parsed, now)
    except Exception:
        log.exception("SendGrid events not stored (SendGrid will send them again)")
        return PlainTextResponse("Server error.", status_code=500)
    log.info(
        "SendGrid events: %d stored, %d duplicates, %d suppressions, %d without subscriber",
        report.stored,
        report.duplicates,
        report.suppressed,
        report.unmatched,
    )
    return PlainTextResponse("OK")


routes: list[BaseRoute] = [Route("/webhooks/sendgrid", sendgrid_events, methods=["POST"])]
