"""The SendGrid backend against a fake SendGrid API over real HTTP (no patching)."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from digest.config import Settings
from digest.delivery import OutgoingMessage, get_backend
from digest.delivery.sendgrid import SendGridBackend, build_payload
from digest.errors import DeliveryAuthError, DeliveryError
from tests.fake_sendgrid import FakeSendGrid, RecordedRequest, Reply, error_reply, rate_limited

UNSUBSCRIBE = "https://news.example.com/unsubscribe/eyJzIjo0Mn0.Zx9"

MESSAGE = OutgoingMessage(
    to_email="anna@example.com",
    to_name="Anna Schäfer",
    from_email="digest@example.com",
    from_name="KI-Morgenpost",
    subject="Die KI-Morgenpost vom 25. November",
    text="Guten Morgen, Anna!\n",
    html="<p>Guten Morgen, Anna!</p>",
    message_id="<digest.2026-11-25.42@example.com>",
    date=datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
    reply_to="redaktion@example.com",
    headers={
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": "KI-Morgenpost <ki-morgenpost.example.com>",
    },
    custom_args={"edition_id": "3", "edition_date": "2026-11-25", "subscriber_id": "42"},
)


def backend_for(server: FakeSendGrid, *, timeout: float = 5.0) -> SendGridBackend:
    return SendGridBackend(
        api_key="SG.test-key", api_host=server.url, timeout=timeout, categories=("digest",)
    )


def test_posts_the_message_to_mail_send(fake_sendgrid: FakeSendGrid) -> None:
    with backend_for(fake_sendgrid) as backend:
        result = backend.send(MESSAGE)

    assert result.provider_message_id == "fake-000001"
    (request,) = fake_sendgrid.requests
    assert request.method == "POST"
    assert request.path == "/v3/mail/send"
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json
    (personalization,) = body["personalizations"]
    assert personalization["to"] == [{"email": "anna@example.com", "name": "Anna Schäfer"}]
    assert personalization["subject"] == MESSAGE.subject
    assert personalization["headers"] == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": "KI-Morgenpost <ki-morgenpost.example.com>",
        "Message-ID": "<digest.2026-11-25.42@example.com>",
    }
    assert personalization["custom_args"] == {
        "edition_id": "3",
        "edition_date": "2026-11-25",
        "subscriber_id": "42",
    }
    assert body["from"] == {"email": "digest@example.com", "name": "KI-Morgenpost"}
    assert body["reply_to"] == {"email": "redaktion@example.com"}
    assert body["content"] == [
        {"type": "text/plain", "value": MESSAGE.text},
        {"type": "text/html", "value": MESSAGE.html},
    ]
    assert body["categories"] == ["digest"]


def test_each_message_is_one_request(fake_sendgrid: FakeSendGrid) -> None:
    with backend_for(fake_sendgrid) as backend:
        ids = [backend.send(replace(MESSAGE, to_email=f"r{n}@example.com")) for n in range(3)]
    assert [r.provider_message_id for r in ids] == ["fake-000001", "fake-000002", "fake-000003"]
    assert [r.json["personalizations"][0]["to"][0]["email"] for r in fake_sendgrid.requests] == [
        "r0@example.com",
        "r1@example.com",
        "r2@example.com",
    ]


def test_payload_leaves_out_reserved_headers_and_encodes_non_ascii() -> None:
    message = replace(
        MESSAGE,
        to_name="Schäfer, Anna; Dr.",
        headers={
            "Reply-To": "someone@example.com",
            "Content-Type": "text/plain",
            "X-SG-ID": "x",
            "List-Id": "Morgenpost für alle <m.example.com>",
        },
    )
    payload = build_payload(message)
    personalization = payload["personalizations"][0]
    # SendGrid documents that to.name may not contain "," or ";".
    assert personalization["to"] == [{"email": "anna@example.com", "name": "Schäfer Anna Dr."}]
    headers = personalization.get("headers", {})
    assert set(headers) == {"List-Id", "Message-ID"}
    assert headers["List-Id"].isascii() and headers["List-Id"].endswith(" <m.example.com>")


def test_categories_come_from_the_message_or_the_settings() -> None:
    assert build_payload(MESSAGE, categories=["digest", "daily"])["categories"] == [
        "digest",
        "daily",
    ]
    many = (*(f"c{n}" for n in range(15)), "c1", "x" * 300)
    chosen = build_payload(replace(MESSAGE, categories=many), categories=["digest"])["categories"]
    assert chosen == [f"c{n}" for n in range(10)]
    assert "categories" not in build_payload(MESSAGE)
    long_one = build_payload(replace(MESSAGE, categories=("y" * 300,)))["categories"]
    assert long_one == ["y" * 255]


def test_without_text_only_html_is_sent_and_without_any_content_it_fails() -> None:
    assert build_payload(replace(MESSAGE, text=""))["content"] == [
        {"type": "text/html", "value": MESSAGE.html}
    ]
    with pytest.raises(DeliveryError) as caught:
        build_payload(replace(MESSAGE, text="", html=""))
    assert caught.value.permanent


def test_oversized_custom_args_are_refused_before_sending() -> None:
    with pytest.raises(DeliveryError, match="custom_args") as caught:
        build_payload(replace(MESSAGE, custom_args={"blob": "x" * 10_000}))
    assert caught.value.permanent


def test_bad_request_is_permanent_and_carries_sendgrids_message(
    fake_sendgrid: FakeSendGrid,
) -> None:
    fake_sendgrid.reply(
        error_reply(
            400,
            "Does not contain a valid address.",
            field="personalizations.0.to.0.email",
        )
    )
    with pytest.raises(DeliveryError) as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    error = caught.value
    assert error.permanent and not isinstance(error, DeliveryAuthError)
    assert "Does not contain a valid address." in str(error)
    assert "personalizations.0.to.0.email" in str(error)
    assert "anna@example.com" in str(error)


def test_payload_too_large_is_permanent(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.reply(error_reply(413, "The JSON payload you have included is too large."))
    with pytest.raises(DeliveryError, match="too large") as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    assert caught.value.permanent


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_an_auth_error_naming_the_variable(
    fake_sendgrid: FakeSendGrid, status: int
) -> None:
    fake_sendgrid.reply(error_reply(status, "The provided authorization grant is invalid"))
    with pytest.raises(DeliveryAuthError) as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    assert "SENDGRID_API_KEY" in str(caught.value)
    assert "Mail Send" in (caught.value.hint or "")
    assert "authorization grant is invalid" in str(caught.value)


def test_unverified_sender_points_at_from_email(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.reply(
        error_reply(
            403, "The from address does not match a verified Sender Identity.", field="from"
        )
    )
    with pytest.raises(DeliveryAuthError) as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    assert "newsletter.from_email" in (caught.value.hint or "")


def test_rate_limit_is_transient_and_says_when_it_resets(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.reply(rate_limited(reset=1_795_000_000))
    with pytest.raises(DeliveryError) as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    error = caught.value
    assert not error.permanent and not isinstance(error, DeliveryAuthError)
    assert "rate limit" in str(error)
    assert "2026-11-18 11:06:40 UTC" in str(error)
    assert "1795000000" in str(error)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake_sendgrid: FakeSendGrid, status: int) -> None:
    fake_sendgrid.reply(Reply(status, body="upstream trouble"))
    with pytest.raises(DeliveryError) as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    assert not caught.value.permanent
    assert f"HTTP {status}" in str(caught.value)


def test_a_retry_after_a_transient_error_succeeds(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.reply(Reply(503))
    with backend_for(fake_sendgrid) as backend:
        with pytest.raises(DeliveryError):
            backend.send(MESSAGE)
        assert backend.send(MESSAGE).provider_message_id == "fake-000001"
    assert len(fake_sendgrid.requests) == 2


def test_responder_can_refuse_chosen_addresses(fake_sendgrid: FakeSendGrid) -> None:
    def refuse_bounced(request: RecordedRequest) -> Reply | None:
        to = request.json["personalizations"][0]["to"][0]["email"]
        return error_reply(400, "Invalid address") if to == "bounced@example.com" else None

    fake_sendgrid.responder = refuse_bounced
    backend = backend_for(fake_sendgrid)
    assert backend.send(MESSAGE).provider_message_id
    with pytest.raises(DeliveryError, match="Invalid address"):
        backend.send(replace(MESSAGE, to_email="bounced@example.com"))


def test_slow_answer_beyond_the_timeout_is_uncertain(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.reply(Reply(delay=10))
    with pytest.raises(DeliveryError) as caught:
        backend_for(fake_sendgrid, timeout=0.3).send(MESSAGE)
    assert not caught.value.permanent
    # The request reached SendGrid; only the answer is missing.
    assert caught.value.uncertain
    assert "0.3 seconds" in str(caught.value)
    assert fake_sendgrid.url in str(caught.value)
    assert "delivery.sendgrid.timeout" in (caught.value.hint or "")


def test_dropped_connection_is_uncertain(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.reply(Reply(drop_connection=True))
    with pytest.raises(DeliveryError) as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    assert not caught.value.permanent
    assert caught.value.uncertain
    assert "delivery.sendgrid.api_host" in (caught.value.hint or "")


def test_answer_cut_short_is_uncertain(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.reply(Reply(202, body=b'{"padding": "' + b"x" * 100 + b'"}', truncate_body_to=10))
    with pytest.raises(DeliveryError, match="broke off") as caught:
        backend_for(fake_sendgrid).send(MESSAGE)
    assert not caught.value.permanent
    assert caught.value.uncertain


def test_connection_refused_is_transient_and_names_the_host() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    backend = SendGridBackend("SG.test-key", f"http://127.0.0.1:{port}", 2.0, ())
    with pytest.raises(DeliveryError) as caught:
        backend.send(MESSAGE)
    assert not caught.value.permanent
    # Nothing reached SendGrid, so the next run may safely retry.
    assert not caught.value.uncertain
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "delivery.sendgrid.api_host" in (caught.value.hint or "")


@pytest.mark.parametrize("key", [None, ""])
def test_missing_key_is_an_auth_error(key: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The library would fall back to the environment; the backend must not.
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.from-env")
    with pytest.raises(DeliveryAuthError, match="SENDGRID_API_KEY"):
        SendGridBackend(key, "https://api.sendgrid.com", 30, ())


def test_get_backend_builds_sendgrid_from_settings(fake_sendgrid: FakeSendGrid) -> None:
    settings = Settings.model_validate(
        {
            "delivery": {
                "backend": "sendgrid",
                "sendgrid": {"api_host": fake_sendgrid.url, "timeout": "7s", "categories": ["a"]},
            },
            "sendgrid_api_key": "SG.settings-key",
            "secret_key": "s" * 32,
        }
    )
    backend = get_backend(settings)
    assert isinstance(backend, SendGridBackend)
    assert backend.timeout == 7.0
    backend.send(MESSAGE)
    (request,) = fake_sendgrid.requests
    assert request.headers["Authorization"] == "Bearer SG.settings-key"
    assert request.json["categories"] == ["a"]
