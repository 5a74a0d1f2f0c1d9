"""The SMTP backend against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from digest.delivery import OutgoingMessage, get_backend
from digest.delivery.smtp import SmtpBackend
from digest.errors import DeliveryAuthError, DeliveryError

from .fake_smtp import Recorder, free_port, smtp_server, tls_smtp_server

__all__ = ["smtp_server", "tls_smtp_server"]  # fixtures used below

MESSAGE = OutgoingMessage(
    to_email="anna@example.com",
    to_name="Anna Beispiel",
    from_email="digest@news.example.com",
    from_name="KI-Morgenpost",
    subject="KI-Morgenpost: Schlagzeile",
    text="Text part\n",
    html="<p>HTML part</p>",
    message_id="<digest.2026-11-25.1@news.example.com>",
    date=datetime(2026, 11, 25, 5, 30, tzinfo=UTC),
    headers={
        "List-Unsubscribe": "<https://news.example.com/unsubscribe/abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
)


def to(address: str) -> OutgoingMessage:
    return replace(MESSAGE, to_email=address, to_name=None)


def test_many_messages_over_one_connection(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    backend = SmtpBackend("127.0.0.1", port, security="none", timeout=5)
    with backend:
        for i in range(5):
            backend.send(to(f"reader{i}@example.com"))
    assert recorder.sessions == 1
    assert backend.connections == 1
    assert [m.rcpt_tos for m in recorder.messages] == [[f"reader{i}@example.com"] for i in range(5)]
    parsed = email.message_from_bytes(recorder.messages[0].data, policy=email.policy.default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == MESSAGE.message_id
    assert recorder.messages[0].mail_from == "digest@news.example.com"


def test_a_dropped_connection_is_reopened_before_the_next_message(
    smtp_server: tuple[Recorder, int],
) -> None:
    recorder, port = smtp_server
    backend = SmtpBackend("127.0.0.1", port, security="none", timeout=5)
    with backend:
        backend.send(to("one@example.com"))
        assert backend._connection is not None
        # Cut the connection as a server's idle timeout would.
        backend._connection.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        backend.send(to("two@example.com"))
    assert backend.connections == 2
    assert len(recorder.messages) == 2


def test_refused_recipient_is_permanent_and_the_rest_go(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.refuse_rcpt.add("gone@example.com")
    backend = SmtpBackend("127.0.0.1", port, security="none", timeout=5)
    with backend:
        with pytest.raises(DeliveryError) as caught:
            backend.send(to("gone@example.com"))
        backend.send(to("here@example.com"))
    assert caught.value.permanent and not caught.value.uncertain
    assert "550" in str(caught.value)
    assert [m.rcpt_tos for m in recorder.messages] == [["here@example.com"]]


def test_refused_data_is_permanent(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.refuse_data.add("spamtrap@example.com")
    with (
        SmtpBackend("127.0.0.1", port, security="none", timeout=5) as backend,
        pytest.raises(DeliveryError, match="554") as caught,
    ):
        backend.send(to("spamtrap@example.com"))
    assert caught.value.permanent


def test_unreachable_server_is_a_safe_retry() -> None:
    backend = SmtpBackend("127.0.0.1", free_port(), security="none", timeout=2)
    with pytest.raises(DeliveryError) as caught:
        backend.send(MESSAGE)
    assert not caught.value.permanent and not caught.value.uncertain
    assert "delivery.smtp.host" in (caught.value.hint or "")


def test_starttls_and_login(tls_smtp_server: tuple[Recorder, int, ssl.SSLContext]) -> None:
    recorder, port, client_context = tls_smtp_server
    backend = SmtpBackend(
        "127.0.0.1",
        port,
        security="starttls",
        username="digest",
        password="sesame",
        timeout=5,
        ssl_context=client_context,
    )
    with backend:
        backend.send(MESSAGE)
        backend.send(to("ben@example.org"))
    assert len(recorder.messages) == 2
    assert backend.connections == 1


def test_wrong_password_stops_with_a_hint(
    tls_smtp_server: tuple[Recorder, int, ssl.SSLContext],
) -> None:
    _, port, client_context = tls_smtp_server
    backend = SmtpBackend(
        "127.0.0.1",
        port,
        security="starttls",
        username="digest",
        password="wrong",
        timeout=5,
        ssl_context=client_context,
    )
    with pytest.raises(DeliveryAuthError) as caught:
        backend.send(MESSAGE)
    assert "SMTP_PASSWORD" in (caught.value.hint or "")


def test_backend_from_settings(tmp_path: object) -> None:
    from pathlib import Path

    from digest.config import load_settings

    settings = load_settings(
        None,
        environ={
            "DIGEST__DELIVERY__BACKEND": "smtp",
            "DIGEST__DELIVERY__SMTP__PORT": "2525",
            "DIGEST__DELIVERY__SMTP__SECURITY": "starttls",
            "DIGEST__DELIVERY__SMTP__USERNAME": "digest",
            "SMTP_PASSWORD": "sesame",
            "DIGEST_SECRET_KEY": "x",
        },
        cwd=Path(str(tmp_path)),
    )
    backend = get_backend(settings)
    assert isinstance(backend, SmtpBackend)
    assert (backend.port, backend.security, backend.username, backend.password) == (
        2525,
        "starttls",
        "digest",
        "sesame",
    )
