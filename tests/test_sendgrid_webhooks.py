"""POST /webhooks/sendgrid through the real app: signature, freshness, parsing, actions.

Requests are signed exactly like SendGrid signs them: ECDSA P-256 with SHA-256
over the timestamp header followed by the raw body, base64 DER in the header.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from starlette.testclient import TestClient

from digest import events, subscribers
from digest.config import Settings, load_settings
from digest.store.db import Database
from digest.store.models import (
    Edition,
    ProviderEvent,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
)
from digest.web import create_app

from .conftest import NOW

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
URL = "/webhooks/sendgrid"


@pytest.fixture(scope="module")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_setting(key: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid shows it: base64 of the DER public key."""
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def hook_settings_for(settings: Settings, tmp_path: Path, key: str | None) -> Settings:
    env = {"DIGEST__DATABASE__URL": settings.database.url, "DIGEST_SECRET_KEY": "x"}
    if key is not None:
        env["DIGEST__DELIVERY__SENDGRID__WEBHOOK_PUBLIC_KEY"] = key
    return load_settings(None, environ=env, cwd=tmp_path)


@pytest.fixture
def client(
    settings: Settings, db: Database, tmp_path: Path, private_key: ec.EllipticCurvePrivateKey
) -> Iterator[TestClient]:
    hook_settings = hook_settings_for(settings, tmp_path, public_key_setting(private_key))
    app = create_app(hook_settings, db=db, clock=lambda: NOW)
    with TestClient(app) as test_client:
        yield test_client


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    signature = key.sign(timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode("ascii")


def signed_headers(
    key: ec.EllipticCurvePrivateKey, body: bytes, *, at: datetime = NOW
) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    return {
        "Content-Type": "application/json",
        SIGNATURE: sign(key, timestamp, body),
        TIMESTAMP: timestamp,
    }


def post(client: TestClient, key: ec.EllipticCurvePrivateKey, batch: Any) -> int:
    # Formatted the way SendGrid does it (compact); the exact bytes are what is signed.
    body = batch if isinstance(batch, bytes) else json.dumps(batch).encode()
    return client.post(URL, content=body, headers=signed_headers(key, body)).status_code


def event(kind: str, event_id: str, email: str, **fields: Any) -> dict[str, Any]:
    return {
        "email": email,
        "timestamp": int((NOW - timedelta(minutes=3)).timestamp()),
        "event": kind,
        "sg_event_id": event_id,
        "sg_message_id": f"msg-{event_id}",
        "smtp-id": f"<{event_id}@example.net>",
        "category": ["digest"],
        **fields,
    }


def add_subscriber(db: Database, email: str) -> int:
    with db.session() as session:
        subscriber, _ = subscribers.add(session, email, now=NOW)
        return subscriber.id


def add_edition(db: Database, newsletter_date: date = date(2026, 11, 25)) -> int:
    with db.session() as session:
        edition = Edition(newsletter_date=newsletter_date, created_at=NOW)
        session.add(edition)
        session.flush()
        return edition.id


def ours(edition_id: int, subscriber_id: int) -> dict[str, str]:
    """The custom args compose() attaches, as SendGrid returns them: top level, strings."""
    return {
        "edition_id": str(edition_id),
        "edition_date": "2026-11-25",
        "subscriber_id": str(subscriber_id),
    }


def status_of(db: Database, subscriber_id: int) -> str:
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        return subscriber.status


def stored(db: Database) -> dict[str, ProviderEvent]:
    with db.session() as session:
        rows = session.scalars(select(ProviderEvent)).all()
        return {row.provider_event_id: row for row in rows}


def suppressions(db: Database, subscriber_id: int) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(
            select(SubscriberEvent)
            .where(SubscriberEvent.subscriber_id == subscriber_id)
            .where(SubscriberEvent.kind == "suppressed")
            .order_by(SubscriberEvent.id)
        ).all()
        return [row.detail for row in rows]


# --- a real batch ----------------------------------------------------------------


def test_batch_is_stored_and_acted_on(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    edition = add_edition(db)
    anna = add_subscriber(db, "anna@example.com")
    bert = add_subscriber(db, "bert@example.com")
    cleo = add_subscriber(db, "cleo@example.com")
    dora = add_subscriber(db, "dora@example.com")
    emil = add_subscriber(db, "emil@example.com")
    batch = [
        event("processed", "e-queued", "anna@example.com", **ours(edition, anna)),
        event(
            "delivered", "e-delivered", "anna@example.com", response="250 OK", **ours(edition, anna)
        ),
        event("open", "e-open", "anna@example.com", sg_machine_open=False, **ours(edition, anna)),
        event(
            "click",
            "e-click",
            "anna@example.com",
            url="https://example.org/a?x=1",
            **ours(edition, anna),
        ),
        event(
            "bounce",
            "e-bounce",
            "bert@example.com",
            type="bounce",
            reason="550 5.1.1 The email account that you tried to reach does not exist",
            status="5.1.1",
            bounce_classification="Invalid Address",
            **ours(edition, bert),
        ),
        event("spamreport", "e-spam", "cleo@example.com", **ours(edition, cleo)),
        event("unsubscribe", "e-unsub", "dora@example.com", **ours(edition, dora)),
        event(
            "group_unsubscribe",
            "e-group",
            "emil@example.com",
            asm_group_id=42,
            **ours(edition, emil),
        ),
    ]
    assert post(client, private_key, batch) == 200

    assert status_of(db, anna) == SubscriberStatus.ACTIVE
    assert status_of(db, bert) == SubscriberStatus.BOUNCED
    assert status_of(db, cleo) == SubscriberStatus.COMPLAINED
    assert status_of(db, dora) == SubscriberStatus.UNSUBSCRIBED
    assert status_of(db, emil) == SubscriberStatus.UNSUBSCRIBED
    with db.session() as session:
        bounced = session.get(Subscriber, bert)
        assert bounced is not None
        assert bounced.status_reason is not None
        assert "does not exist" in bounced.status_reason
        unsubscribed = session.get(Subscriber, dora)
        assert unsubscribed is not None
        assert unsubscribed.status_reason == "SendGrid unsubscribe"

    rows = stored(db)
    assert {key: row.event for key, row in rows.items()} == {
        "e-queued": "queued",
        "e-delivered": "delivered",
        "e-open": "opened",
        "e-click": "clicked",
        "e-bounce": "bounced",
        "e-spam": "complained",
        "e-unsub": "unsubscribed",
        "e-group": "unsubscribed",
    }
    click = rows["e-click"]
    assert click.provider == "sendgrid"
    assert click.provider_event == "click"
    assert click.edition_id == edition
    assert click.subscriber_id == anna
    assert click.url == "https://example.org/a?x=1"
    assert click.occurred_at == NOW - timedelta(minutes=3)
    assert click.received_at == NOW
    # The whole event is kept, custom args and all.
    assert click.payload["sg_message_id"] == "msg-e-click"
    assert click.payload["edition_date"] == "2026-11-25"
    assert rows["e-delivered"].reason == "250 OK"
    assert rows["e-bounce"].reason is not None
    assert rows["e-bounce"].reason.startswith("550 5.1.1")

    with db.session() as session:
        counts = events.event_counts(session, edition)
        assert counts["delivered"] == 1
        assert counts["unsubscribed"] == 2
        assert [(c.url, c.subscribers) for c in events.clicks_by_url(session, edition)] == [
            ("https://example.org/a?x=1", 1)
        ]


def test_same_batch_twice_is_stored_and_acted_on_once(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    bert = add_subscriber(db, "bert@example.com")
    batch = [
        event("bounce", "e-1", "bert@example.com", type="bounce", reason="550 no such user"),
        event("delivered", "e-2", "anna@example.com"),
    ]
    assert post(client, private_key, batch) == 200
    # SendGrid retries a batch it thinks failed, and may deliver an event twice.
    assert post(client, private_key, batch) == 200
    assert post(client, private_key, [batch[0], batch[0]]) == 200

    assert sorted(stored(db)) == ["e-1", "e-2"]
    assert status_of(db, bert) == SubscriberStatus.BOUNCED
    assert len(suppressions(db, bert)) == 1


# --- refusals ----------------------------------------------------------------------


BATCH = [event("spamreport", "e-refused", "anna@example.com")]


def assert_nothing_happened(db: Database, subscriber_id: int) -> None:
    assert stored(db) == {}
    assert status_of(db, subscriber_id) == SubscriberStatus.ACTIVE


def test_wrong_key_is_refused(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    other = ec.generate_private_key(ec.SECP256R1())
    body = json.dumps(BATCH).encode()
    response = client.post(URL, content=body, headers=signed_headers(other, body))
    assert response.status_code == 403
    # Vague on purpose: nothing about what was wrong.
    assert "signature" not in response.text.lower()
    assert_nothing_happened(db, anna)


def test_altered_body_is_refused(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    body = json.dumps(BATCH).encode()
    headers = signed_headers(private_key, body)
    # Semantically the same JSON, different bytes: still not what was signed.
    altered = json.dumps(BATCH, indent=1).encode()
    assert client.post(URL, content=altered, headers=headers).status_code == 403
    assert_nothing_happened(db, anna)


def test_altered_timestamp_is_refused(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    body = json.dumps(BATCH).encode()
    headers = signed_headers(private_key, body)
    headers[TIMESTAMP] = str(int(headers[TIMESTAMP]) + 1)
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert_nothing_happened(db, anna)


@pytest.mark.parametrize("missing", [SIGNATURE, TIMESTAMP, "both"])
def test_missing_headers_are_refused(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey, missing: str
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    body = json.dumps(BATCH).encode()
    headers = signed_headers(private_key, body)
    for name in (SIGNATURE, TIMESTAMP) if missing == "both" else (missing,):
        del headers[name]
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert_nothing_happened(db, anna)


@pytest.mark.parametrize("signature", ["", "not base64!", base64.b64encode(b"junk").decode()])
def test_garbage_signature_is_refused(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey, signature: str
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    body = json.dumps(BATCH).encode()
    headers = signed_headers(private_key, body) | {SIGNATURE: signature}
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert_nothing_happened(db, anna)


@pytest.mark.parametrize(
    "signed_at",
    [
        # A captured request replayed later (webhook_max_age defaults to 10 minutes).
        NOW - timedelta(minutes=11),
        NOW - timedelta(days=1),
        NOW + timedelta(minutes=6),
    ],
    ids=["stale", "a-day-old", "future"],
)
def test_timestamps_outside_the_window_are_refused(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey, signed_at: datetime
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    body = json.dumps(BATCH).encode()
    headers = signed_headers(private_key, body, at=signed_at)
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert_nothing_happened(db, anna)


def test_timestamps_inside_the_window_are_accepted(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    body = json.dumps(BATCH).encode()
    for signed_at in (NOW - timedelta(minutes=9), NOW + timedelta(minutes=2)):
        headers = signed_headers(private_key, body, at=signed_at)
        assert client.post(URL, content=body, headers=headers).status_code == 200


@pytest.mark.parametrize("timestamp", ["", "soon", "-5", "9" * 40])
def test_malformed_timestamps_are_refused(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey, timestamp: str
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    body = json.dumps(BATCH).encode()
    headers = signed_headers(private_key, body) | {TIMESTAMP: timestamp}
    if timestamp:
        headers[SIGNATURE] = sign(private_key, timestamp, body)
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert_nothing_happened(db, anna)


def test_without_a_key_every_request_is_refused(
    settings: Settings,
    db: Database,
    tmp_path: Path,
    private_key: ec.EllipticCurvePrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    app = create_app(hook_settings_for(settings, tmp_path, None), db=db, clock=lambda: NOW)
    body = json.dumps(BATCH).encode()
    with TestClient(app) as client:
        response = client.post(URL, content=body, headers=signed_headers(private_key, body))
    assert response.status_code == 503
    # The operator reads what to set in the server log.
    assert "delivery.sendgrid.webhook_public_key" in caplog.text
    assert_nothing_happened(db, anna)


def test_only_post(client: TestClient) -> None:
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize("body", [b"[{", b"", b'{"event": "open"}', b"\xff\xfe"])
def test_authentic_but_malformed_body_is_a_400(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey, body: bytes
) -> None:
    assert post(client, private_key, body) == 400
    assert stored(db) == {}


def test_storage_failure_is_a_500_so_sendgrid_retries(
    client: TestClient,
    db: Database,
    private_key: ec.EllipticCurvePrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> events.RecordReport:
        raise RuntimeError("database went away")

    monkeypatch.setattr(events, "record_events", broken)
    assert post(client, private_key, BATCH) == 500


# --- matching and actions ----------------------------------------------------------


def test_unknown_event_type_is_stored_as_unknown(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    batch = [event("machine_learning_magic", "e-new", "anna@example.com")]
    assert post(client, private_key, batch) == 200
    row = stored(db)["e-new"]
    assert (row.event, row.provider_event, row.subscriber_id) == (
        "unknown",
        "machine_learning_magic",
        anna,
    )
    assert status_of(db, anna) == SubscriberStatus.ACTIVE


def test_event_without_custom_args_is_matched_by_email(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    # A message sent some other way (a test send from the SendGrid UI, say).
    assert post(client, private_key, [event("spamreport", "e-1", "Anna@Example.com")]) == 200
    row = stored(db)["e-1"]
    assert (row.subscriber_id, row.edition_id) == (anna, None)
    assert status_of(db, anna) == SubscriberStatus.COMPLAINED


def test_subscriber_id_of_another_address_is_not_trusted(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    bert = add_subscriber(db, "bert@example.com")
    # Ids from another install sharing the SendGrid account point at the wrong person.
    batch = [event("spamreport", "e-1", "bert@example.com", subscriber_id=str(anna))]
    assert post(client, private_key, batch) == 200
    assert stored(db)["e-1"].subscriber_id == bert
    assert status_of(db, anna) == SubscriberStatus.ACTIVE
    assert status_of(db, bert) == SubscriberStatus.COMPLAINED


def test_event_for_an_unknown_address_is_stored(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    batch = [
        event("bounce", "e-1", "nobody@example.com", type="bounce", reason="550 unknown user"),
        event("dropped", "e-2", "not an address", reason="Invalid"),
        event("open", "e-3", "ghost@example.com", edition_id="999", subscriber_id="999"),
    ]
    assert post(client, private_key, batch) == 200
    rows = stored(db)
    assert sorted(rows) == ["e-1", "e-2", "e-3"]
    assert all(row.subscriber_id is None and row.edition_id is None for row in rows.values())
    assert rows["e-1"].email == "nobody@example.com"


def test_garbage_custom_args_are_ignored(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    batch = [
        event("open", "e-1", "anna@example.com", edition_id="abc", subscriber_id="1e3"),
        event("open", "e-2", "anna@example.com", edition_id="99999999999999", subscriber_id=None),
        event("open", "e-3", "anna@example.com", edition_id=["1"], subscriber_id={"id": 1}),
    ]
    assert post(client, private_key, batch) == 200
    assert {row.subscriber_id for row in stored(db).values()} == {anna}


def test_event_without_an_event_id_is_skipped(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    without = event("spamreport", "x", "anna@example.com")
    del without["sg_event_id"]
    batch = [without, "not an object", event("delivered", "e-2", "anna@example.com")]
    assert post(client, private_key, batch) == 200
    assert sorted(stored(db)) == ["e-2"]
    assert status_of(db, anna) == SubscriberStatus.ACTIVE


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"event": "bounce", "type": "blocked", "reason": "554 IP listed on a blocklist"},
            "blocked",
        ),
        ({"event": "deferred", "response": "421 try again later", "attempt": "3"}, "deferred"),
    ],
    ids=["blocked", "deferred"],
)
def test_blocked_and_deferred_do_not_suppress(
    client: TestClient,
    db: Database,
    private_key: ec.EllipticCurvePrivateKey,
    fields: dict[str, str],
    expected: str,
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    assert post(client, private_key, [event("x", "e-1", "anna@example.com") | fields]) == 200
    assert stored(db)["e-1"].event == expected
    assert status_of(db, anna) == SubscriberStatus.ACTIVE
    assert suppressions(db, anna) == []


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Bounced Address", SubscriberStatus.BOUNCED),
        ("Invalid", SubscriberStatus.BOUNCED),
        ("Unsubscribed Address", SubscriberStatus.UNSUBSCRIBED),
        ("Spam Reporting Address", SubscriberStatus.COMPLAINED),
        ("Exceeded the message size limit", SubscriberStatus.ACTIVE),
        ("Invalid SMTPAPI header", SubscriberStatus.ACTIVE),
        ("Spam Content (if spam checker app enabled)", SubscriberStatus.ACTIVE),
    ],
)
def test_dropped_reasons(
    client: TestClient,
    db: Database,
    private_key: ec.EllipticCurvePrivateKey,
    reason: str,
    expected: SubscriberStatus,
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    batch = [event("dropped", "e-1", "anna@example.com", reason=reason)]
    assert post(client, private_key, batch) == 200
    row = stored(db)["e-1"]
    assert (row.event, row.reason) == ("rejected", reason)
    assert status_of(db, anna) == expected


def test_complaint_after_unsubscribe_upgrades_the_status(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    assert post(client, private_key, [event("unsubscribe", "e-1", "anna@example.com")]) == 200
    assert status_of(db, anna) == SubscriberStatus.UNSUBSCRIBED
    assert post(client, private_key, [event("spamreport", "e-2", "anna@example.com")]) == 200
    assert status_of(db, anna) == SubscriberStatus.COMPLAINED
    assert [s["status"] for s in suppressions(db, anna)] == ["unsubscribed", "complained"]


def test_unsubscribe_after_complaint_does_not_downgrade(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    assert post(client, private_key, [event("spamreport", "e-1", "anna@example.com")]) == 200
    batch = [
        event("group_unsubscribe", "e-2", "anna@example.com"),
        event("bounce", "e-3", "anna@example.com", type="bounce", reason="550 gone"),
    ]
    assert post(client, private_key, batch) == 200
    assert status_of(db, anna) == SubscriberStatus.COMPLAINED
    assert [s["status"] for s in suppressions(db, anna)] == ["complained"]
    assert len(stored(db)) == 3


def test_resubscribe_is_stored_but_does_not_reactivate(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    anna = add_subscriber(db, "anna@example.com")
    batch = [
        event("group_unsubscribe", "e-1", "anna@example.com", asm_group_id=7),
        event("group_resubscribe", "e-2", "anna@example.com", asm_group_id=7),
    ]
    assert post(client, private_key, batch) == 200
    assert stored(db)["e-2"].event == "resubscribed"
    assert status_of(db, anna) == SubscriberStatus.UNSUBSCRIBED


def test_many_events_in_one_batch(
    client: TestClient, db: Database, private_key: ec.EllipticCurvePrivateKey
) -> None:
    add_subscriber(db, "anna@example.com")
    batch = [event("open", f"e-{n}", "anna@example.com") for n in range(300)]
    assert post(client, private_key, batch) == 200
    with db.session() as session:
        assert session.scalar(select(func.count(ProviderEvent.id))) == 300
