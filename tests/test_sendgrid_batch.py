"""SendGridBackend.send_batch against the fake SendGrid API over real HTTP (no patching)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest.config import Settings
from digest.delivery import get_backend
from digest.delivery.base import Batch, BatchRecipient
from digest.delivery.retry import RetryPolicy
from digest.delivery.sendgrid import SendGridBackend, cancel_scheduled, create_batch_id
from digest.delivery.sendgrid_api import scheduled_status
from digest.errors import DeliveryAuthError, DeliveryError
from digest.render import Personalization, RenderedEdition, personalize
from tests.fake_sendgrid import (
    FakeSendGrid,
    Reply,
    error_reply,
    every,
    rate_limited,
    refuse_addresses,
)

WALL = 1_795_000_000.0
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)

RENDERED = RenderedEdition(
    subject="Die KI-Morgenpost vom 25. November",
    preheader="Drei Geschichten",
    html=(
        "<p>Guten Morgen%%DIGEST_NAME_SUFFIX%%!</p>"
        '<a href="%%DIGEST_UNSUBSCRIBE_URL%%">Abbestellen</a> '
        '<a href="%%DIGEST_PREFERENCES_URL%%">Einstellungen</a>'
        "<p>Gesendet an %%DIGEST_EMAIL%%</p>"
    ),
    text=(
        "Guten Morgen%%DIGEST_NAME_SUFFIX%%!\n"
        "Abbestellen: %%DIGEST_UNSUBSCRIBE_URL%%\n"
        "Einstellungen: %%DIGEST_PREFERENCES_URL%%\n"
        "Gesendet an %%DIGEST_EMAIL%%\n"
    ),
)


def recipient(n: int, email: str | None = None, name: str | None = None) -> BatchRecipient:
    email = email or f"reader{n}@example.com"
    unsubscribe = f"https://news.example.com/u/{n}?t=abc&x=1"
    return BatchRecipient(
        delivery_id=1000 + n,
        subscriber_id=n,
        email=email,
        name=name,
        personalization=Personalization(
            email=email,
            name=name,
            unsubscribe_url=unsubscribe,
            preferences_url=f"https://news.example.com/p/{n}?t=abc&x=1",
        ),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": "KI-Morgenpost <ki-morgenpost.example.com>",
        },
        message_id=f"<digest.2026-11-25.{n}@example.com>",
        custom_args={"edition_id": "3", "edition_date": "2026-11-25", "subscriber_id": str(n)},
    )


def batch_of(recipients: list[BatchRecipient], rendered: RenderedEdition = RENDERED) -> Batch:
    return Batch(
        rendered=rendered,
        recipients=recipients,
        from_email="digest@example.com",
        from_name="KI-Morgenpost",
        reply_to="redaktion@example.com",
        categories=("digest", "daily"),
        date=NOW,
    )


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return WALL + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def backend_for(
    url: str, fake_time: FakeTime, *, deadline: float = 60.0, timeout: float = 5.0, **extra: Any
) -> SendGridBackend:
    retry = RetryPolicy(
        deadline,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        wall_clock=fake_time.wall_clock,
        random=lambda: 0.5,
    )
    return SendGridBackend("SG.test-key", url, timeout, ("digest",), retry=retry, **extra)


def sendgrid_would_send(body: dict[str, Any], index: int) -> dict[str, str]:
    """Apply a personalization's substitutions the way SendGrid does (plain replace)."""
    personalization = body["personalizations"][index]
    parts = {item["type"]: item["value"] for item in body["content"]}
    parts["subject"] = personalization.get("subject", body.get("subject", ""))
    for key, value in personalization.get("substitutions", {}).items():
        parts = {name: text.replace(key, value) for name, text in parts.items()}
    return parts


def test_one_request_with_one_personalization_per_recipient(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    recipients = [recipient(n) for n in range(5)]
    with backend_for(fake_sendgrid.url, fake_time) as backend:
        outcome = backend.send_batch(batch_of(recipients))

    (request,) = fake_sendgrid.requests
    assert request.path == "/v3/mail/send"
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    assert outcome.accepted == {r.delivery_id: "fake-000001" for r in recipients}
    assert not (outcome.failed or outcome.retry or outcome.uncertain or outcome.stop)
    body = request.json
    assert [p["to"] for p in body["personalizations"]] == [
        [{"email": f"reader{n}@example.com"}] for n in range(5)
    ]
    first = body["personalizations"][0]
    assert first["headers"] == {
        "List-Unsubscribe": "<https://news.example.com/u/0?t=abc&x=1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": "KI-Morgenpost <ki-morgenpost.example.com>",
        "Message-ID": "<digest.2026-11-25.0@example.com>",
    }
    assert first["custom_args"] == {
        "edition_id": "3",
        "edition_date": "2026-11-25",
        "subscriber_id": "0",
    }
    assert body["from"] == {"email": "digest@example.com", "name": "KI-Morgenpost"}
    assert body["reply_to"] == {"email": "redaktion@example.com"}
    assert body["subject"] == RENDERED.subject
    assert body["categories"] == ["digest", "daily"]
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    # Rendered once: the per-recipient values are SendGrid substitutions.
    assert "%%DIGEST_EMAIL%%" in body["content"][0]["value"]
    assert "%%DIGEST_EMAIL:html%%" in body["content"][1]["value"]
    assert "%%DIGEST_EMAIL%%" not in body["content"][1]["value"]
    for key in ("asm", "mail_settings", "send_at", "batch_id"):
        assert key not in body


def test_substituted_copy_equals_the_locally_personalized_one(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    tricky = recipient(1, email="o'brien&co@example.com", name='Tom & "Jerry" <Katz>, Dr.')
    plain = recipient(2)
    with backend_for(fake_sendgrid.url, fake_time) as backend:
        backend.send_batch(batch_of([tricky, plain]))
    body = fake_sendgrid.requests[0].json

    for index, who in enumerate([tricky, plain]):
        sent = sendgrid_would_send(body, index)
        local = personalize(RENDERED, who.personalization)
        assert sent == {"text/plain": local.text, "text/html": local.html, "subject": local.subject}

    subs = body["personalizations"][0]["substitutions"]
    # Raw in the text part, HTML-escaped in the HTML part.
    assert subs["%%DIGEST_NAME_SUFFIX%%"] == ', Tom & "Jerry" <Katz>, Dr.'
    assert subs["%%DIGEST_NAME_SUFFIX:html%%"] == ", Tom &amp; &quot;Jerry&quot; &lt;Katz&gt;, Dr."
    assert subs["%%DIGEST_EMAIL:html%%"] == "o&#x27;brien&amp;co@example.com"
    assert subs["%%DIGEST_UNSUBSCRIBE_URL:html%%"] == "https://news.example.com/u/1?t=abc&amp;x=1"
    # SendGrid refuses "," and ";" in to.name.
    assert body["personalizations"][0]["to"] == [
        {"email": "o'brien&co@example.com", "name": 'Tom & "Jerry" <Katz> Dr.'}
    ]
    assert body["personalizations"][1]["to"] == [{"email": "reader2@example.com"}]


def test_a_subject_with_tokens_is_filled_per_recipient(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    rendered = RenderedEdition(
        subject="Guten Morgen%%DIGEST_NAME_SUFFIX%%", preheader="", html="<p>x</p>", text="x"
    )
    who = [recipient(1, name="Anna"), recipient(2)]
    with backend_for(fake_sendgrid.url, fake_time) as backend:
        backend.send_batch(batch_of(who, rendered))
    body = fake_sendgrid.requests[0].json
    assert "subject" not in body
    assert [p["subject"] for p in body["personalizations"]] == [
        "Guten Morgen, Anna",
        "Guten Morgen",
    ]
    # Tokens absent from the content are not sent at all.
    assert "substitutions" not in body["personalizations"][0]


def test_settings_reach_the_request(fake_sendgrid: FakeSendGrid, fake_time: FakeTime) -> None:
    send_at = NOW + timedelta(hours=2)
    backend = backend_for(
        fake_sendgrid.url,
        fake_time,
        asm_group_id=4242,
        sandbox=True,
        send_at=send_at,
        batch_id="QzZmYzLTVWIwYgYzJlM2NhNWI",
        now=lambda: NOW,
    )
    backend.send_batch(batch_of([recipient(1)]))
    body = fake_sendgrid.requests[0].json
    assert body["asm"] == {"group_id": 4242}
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert body["send_at"] == int(send_at.timestamp())
    assert body["batch_id"] == "QzZmYzLTVWIwYgYzJlM2NhNWI"


def test_send_at_more_than_72_hours_ahead_is_refused_before_any_request(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    with pytest.raises(DeliveryError, match="72 hours") as caught:
        backend_for(
            fake_sendgrid.url, fake_time, send_at=NOW + timedelta(hours=73), now=lambda: NOW
        )
    assert caught.value.permanent
    with pytest.raises(DeliveryError, match="time zone"):
        backend_for(
            fake_sendgrid.url, fake_time, send_at=datetime(2026, 11, 25, 8), now=lambda: NOW
        )
    assert fake_sendgrid.requests == []


def test_more_recipients_than_batch_size_take_several_requests(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    recipients = [recipient(n) for n in range(2500)]
    backend = backend_for(fake_sendgrid.url, fake_time)
    outcome = backend.send_batch(batch_of(recipients))
    assert [len(r.json["personalizations"]) for r in fake_sendgrid.requests] == [1000, 1000, 500]
    assert len(outcome.accepted) == 2500
    assert outcome.accepted[1000] == "fake-000001"
    assert outcome.accepted[1000 + 2499] == "fake-000003"

    fake_sendgrid.requests.clear()
    small = backend_for(fake_sendgrid.url, fake_time, batch_size=300)
    small.send_batch(batch_of(recipients[:700]))
    assert [len(r.json["personalizations"]) for r in fake_sendgrid.requests] == [300, 300, 100]


def test_invalid_addresses_fail_without_being_sent(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    bad = [
        recipient(1, email="no-at-sign.example.com"),
        recipient(2, email="line@break.example.com\r\nBcc: x@y.z"),
        recipient(3, email="a" * 250 + "@example.com"),
        recipient(4, email="two..dots@example.com"),
    ]
    backend = backend_for(fake_sendgrid.url, fake_time)
    outcome = backend.send_batch(batch_of(bad))
    assert fake_sendgrid.requests == []
    assert set(outcome.failed) == {r.delivery_id for r in bad}
    assert "is not a valid email address" in outcome.failed[1001]
    assert "line break" in outcome.failed[1002]
    assert "254" in outcome.failed[1003]

    good = recipient(5)
    outcome = backend.send_batch(batch_of([bad[0], good]))
    (request,) = fake_sendgrid.requests
    assert request.recipients() == [["reader5@example.com"]]
    assert list(outcome.accepted) == [good.delivery_id]


def test_the_same_address_twice_leaves_the_second_for_a_later_batch(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    first, second = recipient(1, email="Anna@Example.com"), recipient(2, email="anna@example.com")
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of([first, second]))
    assert list(outcome.accepted) == [first.delivery_id]
    assert list(outcome.retry) == [second.delivery_id]
    assert fake_sendgrid.requests[0].recipients() == [["Anna@Example.com"]]


def test_oversized_personal_values_fail_that_recipient_only(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    huge = recipient(1, name="Tom & Jerry " * 400)
    fine = recipient(2)
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of([huge, fine]))
    assert "10000" in outcome.failed[huge.delivery_id]
    assert list(outcome.accepted) == [fine.delivery_id]
    assert fake_sendgrid.requests[0].recipients() == [["reader2@example.com"]]


def test_rate_limit_waits_for_the_reset_then_succeeds(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    fake_sendgrid.reply(rate_limited(reset=int(WALL) + 10))
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of([recipient(1)]))
    # Until X-RateLimit-Reset, plus half of the one-second jitter.
    assert fake_time.sleeps == [10.5]
    assert outcome.accepted == {1001: "fake-000001"}
    assert [e.status for e in fake_sendgrid.mail_sends()] == [429, 202]


def test_rate_limit_past_the_deadline_leaves_the_batch_pending(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    fake_sendgrid.reply(rate_limited(reset=int(WALL) + 3600))
    outcome = backend_for(fake_sendgrid.url, fake_time, deadline=600).send_batch(
        batch_of([recipient(1), recipient(2)])
    )
    assert fake_time.sleeps == []
    assert set(outcome.retry) == {1001, 1002}
    assert "rate limit" in outcome.retry[1001]
    assert "delivery.retry_deadline" in outcome.retry[1001]


def test_server_errors_back_off_then_succeed(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    fake_sendgrid.reply(Reply(503, body="busy"), Reply(500, body="oops"))
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of([recipient(1)]))
    assert fake_time.sleeps == [0.25, 0.5]
    assert outcome.accepted == {1001: "fake-000001"}
    assert fake_sendgrid.accepted_counts() == {"reader1@example.com": 1}


def test_connection_refused_until_the_deadline_leaves_everything_pending(
    fake_time: FakeTime,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = backend_for(f"http://127.0.0.1:{port}", fake_time, deadline=5.0)
    outcome = backend.send_batch(batch_of([recipient(1), recipient(2)]))
    # 0.25 + 0.5 + 1 + 2 s; the next wait (4 s) would pass the 5 s deadline.
    assert fake_time.sleeps == [0.25, 0.5, 1.0, 2.0]
    assert set(outcome.retry) == {1001, 1002}
    assert f"127.0.0.1:{port}" in outcome.retry[1001]
    assert not (outcome.accepted or outcome.uncertain or outcome.failed or outcome.stop)
    # The next batch of the run tries once and does not wait again.
    outcome = backend.send_batch(batch_of([recipient(3)]))
    assert fake_time.sleeps == [0.25, 0.5, 1.0, 2.0]
    assert set(outcome.retry) == {1003}


@pytest.mark.parametrize(
    "reply",
    [Reply(delay=10), Reply(drop_connection=True), Reply(202, body=b"x" * 50, truncate_body_to=5)],
    ids=["read-timeout", "dropped-after-send", "answer-cut-short"],
)
def test_no_answer_after_sending_is_uncertain_and_never_resent(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime, reply: Reply
) -> None:
    fake_sendgrid.reply(reply)
    backend = backend_for(fake_sendgrid.url, fake_time, timeout=0.3)
    outcome = backend.send_batch(batch_of([recipient(1), recipient(2)]))
    assert set(outcome.uncertain) == {1001, 1002}
    assert not (outcome.accepted or outcome.retry or outcome.failed)
    assert len(fake_sendgrid.requests) == 1
    assert fake_time.sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_stops_the_run_and_leaves_all_pending(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime, status: int
) -> None:
    fake_sendgrid.reply(error_reply(status, "The provided authorization grant is invalid"))
    backend = backend_for(fake_sendgrid.url, fake_time, batch_size=2)
    outcome = backend.send_batch(batch_of([recipient(n) for n in range(5)]))
    assert isinstance(outcome.stop, DeliveryAuthError)
    assert "SENDGRID_API_KEY" in str(outcome.stop)
    assert set(outcome.retry) == {1000, 1001, 1002, 1003, 1004}
    # The other requests of the batch are not even tried.
    assert len(fake_sendgrid.requests) == 1


@pytest.mark.parametrize("name_field", [True, False], ids=["field-names-index", "no-field"])
def test_a_400_for_chosen_addresses_fails_exactly_those(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime, name_field: bool
) -> None:
    recipients = [recipient(n) for n in range(64)]
    chosen = {"reader5@example.com", "reader6@example.com", "reader40@example.com"}
    fake_sendgrid.responder = refuse_addresses(chosen, name_field=name_field)

    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of(recipients))

    failed = {r.email for r in recipients if r.delivery_id in outcome.failed}
    assert failed == chosen
    for delivery_id, message in outcome.failed.items():
        assert "Does not contain a valid address." in message
        assert f"reader{delivery_id - 1000}@example.com" in message
    assert len(outcome.accepted) == 61
    counts = fake_sendgrid.accepted_counts()
    assert counts == {r.email: 1 for r in recipients if r.email not in chosen}
    assert not (outcome.retry or outcome.uncertain or outcome.stop)


@pytest.mark.parametrize("size", [8, 1])
def test_a_400_about_the_message_itself_stops_instead_of_splitting(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime, size: int
) -> None:
    fake_sendgrid.reply(
        error_reply(400, "The from email does not contain a valid address.", field="from.email")
    )
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(
        batch_of([recipient(n) for n in range(size)])
    )
    assert isinstance(outcome.stop, DeliveryAuthError)
    assert "from.email" in str(outcome.stop)
    assert "newsletter.from_email" in (outcome.stop.hint or "")
    # Nobody is blamed: all stay pending for a run with fixed settings.
    assert len(outcome.retry) == size
    assert not outcome.failed
    assert len(fake_sendgrid.requests) == 1


def test_payload_too_large_is_split(fake_sendgrid: FakeSendGrid, fake_time: FakeTime) -> None:
    fake_sendgrid.reply(error_reply(413, "The JSON payload you have included is too large."))
    recipients = [recipient(n) for n in range(10)]
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of(recipients))
    assert [len(r.json["personalizations"]) for r in fake_sendgrid.requests] == [10, 5, 5]
    assert len(outcome.accepted) == 10
    assert outcome.accepted[1000] != outcome.accepted[1009]


def test_a_400_for_a_single_recipient_fails_it(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    fake_sendgrid.reply(error_reply(400, "Invalid domain", field="personalizations.0.to.0.email"))
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of([recipient(1)]))
    assert outcome.failed == {
        1001: "SendGrid refused reader1@example.com (HTTP 400): "
        "Invalid domain (field: personalizations.0.to.0.email)"
    }
    assert len(fake_sendgrid.requests) == 1


def test_get_backend_passes_the_batch_settings(fake_sendgrid: FakeSendGrid) -> None:
    settings = Settings.model_validate(
        {
            "delivery": {
                "backend": "sendgrid",
                "retry_deadline": "90s",
                "sendgrid": {
                    "api_host": fake_sendgrid.url,
                    "batch_size": 250,
                    "asm_group_id": 7,
                    "sandbox": True,
                },
            },
            "sendgrid_api_key": "SG.settings-key",
            "secret_key": "s" * 32,
        }
    )
    backend = get_backend(settings)
    assert isinstance(backend, SendGridBackend)
    assert backend.batch_size == 250
    assert backend.retry.deadline == 90.0
    backend.send_batch(batch_of([recipient(1)]))
    body = fake_sendgrid.requests[0].json
    assert body["asm"] == {"group_id": 7}
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}


def scheduling_settings(url: str) -> Settings:
    return Settings.model_validate(
        {
            "delivery": {"sendgrid": {"api_host": url}},
            "sendgrid_api_key": "SG.settings-key",
        }
    )


def test_create_and_cancel_a_batch_id(fake_sendgrid: FakeSendGrid) -> None:
    settings = scheduling_settings(fake_sendgrid.url)
    batch_id = create_batch_id(settings)
    assert batch_id == fake_sendgrid.batch_ids[0]
    assert scheduled_status(settings, batch_id) is None

    assert cancel_scheduled(settings, batch_id) is True
    assert fake_sendgrid.scheduled == {batch_id: "cancel"}
    post = fake_sendgrid.requests[-1]
    assert (post.method, post.path) == ("POST", "/v3/user/scheduled_sends")
    assert post.json == {"batch_id": batch_id, "status": "cancel"}
    # SendGrid answers 400 to a second cancellation; that is not an error.
    assert cancel_scheduled(settings, batch_id) is False


def test_cancelling_a_paused_batch_switches_it_to_cancel(fake_sendgrid: FakeSendGrid) -> None:
    settings = scheduling_settings(fake_sendgrid.url)
    fake_sendgrid.scheduled["paused-batch"] = "pause"
    assert cancel_scheduled(settings, "paused-batch") is True
    assert fake_sendgrid.scheduled == {"paused-batch": "cancel"}
    assert fake_sendgrid.requests[-1].method == "PATCH"


def test_scheduling_errors_are_mapped(fake_sendgrid: FakeSendGrid) -> None:
    settings = scheduling_settings(fake_sendgrid.url)
    fake_sendgrid.reply(error_reply(401, "authorization required"))
    with pytest.raises(DeliveryAuthError, match="authorization required") as caught:
        create_batch_id(settings)
    assert "SENDGRID_API_KEY" in str(caught.value)

    fake_sendgrid.reply(error_reply(400, "invalid batch id", field="batch_id"))
    with pytest.raises(DeliveryError, match="invalid batch id") as refused:
        cancel_scheduled(settings, "unknown")
    assert refused.value.permanent

    fake_sendgrid.reply(Reply(201, body=b"{}"))
    with pytest.raises(DeliveryError, match="without a batch_id"):
        create_batch_id(settings)


def test_mixed_faults_still_deliver_every_address_at_most_once(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    bad = {"reader7@example.com", "reader30@example.com"}
    fake_sendgrid.responder = every(
        3,
        lambda: Reply(503),
        then=every(4, rate_limited(int(WALL) + 2), then=refuse_addresses(bad)),
    )
    recipients = [recipient(n) for n in range(64)]
    backend = backend_for(fake_sendgrid.url, fake_time, batch_size=8)

    outcome = backend.send_batch(batch_of(recipients))

    assert {r.email for r in recipients if r.delivery_id in outcome.failed} == bad
    assert len(outcome.accepted) == 62
    assert fake_sendgrid.accepted_counts() == {r.email: 1 for r in recipients if r.email not in bad}
    assert fake_time.sleeps  # it waited instead of giving up


def test_a_connection_dropped_before_the_body_is_read_is_never_accepted(
    fake_sendgrid: FakeSendGrid, fake_time: FakeTime
) -> None:
    fake_sendgrid.reply(Reply(drop_before_body=True))
    outcome = backend_for(fake_sendgrid.url, fake_time).send_batch(batch_of([recipient(1)]))
    # Depending on timing the client sees the reset while sending (safe to retry,
    # and then accepted) or while waiting for the answer (uncertain).
    assert set(outcome.accepted) | set(outcome.uncertain) == {1001}
    (first, *rest) = fake_sendgrid.mail_sends()
    assert not first.accepted and first.status is None
    assert len(rest) == len(outcome.accepted)


def test_the_fake_server_runs_as_a_process(tmp_path: Path, fake_time: FakeTime) -> None:
    log = tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "tests.fake_sendgrid", "--port", "0", "--log", str(log)]
    command += ["--refuse", "reader2@example.com"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            outcome = backend_for(url, fake_time).send_batch(
                batch_of([recipient(1), recipient(2), recipient(3)])
            )
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0
    assert set(outcome.accepted) == {1001, 1003}
    assert set(outcome.failed) == {1002}
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    accepted = [a for line in lines if line["accepted"] for to in line["to"] for a in to]
    assert sorted(accepted) == ["reader1@example.com", "reader3@example.com"]
    assert [line["status"] for line in lines] == [400, 400, 202]
