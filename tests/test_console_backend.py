from __future__ import annotations

import io

import pytest

from digest.config import Settings
from digest.delivery import OutgoingMessage, get_backend
from digest.delivery.console import ConsoleBackend

MESSAGE = OutgoingMessage(
    to_email="anna@example.com",
    to_name="Anna Schäfer",
    from_email="digest@example.com",
    from_name="KI-Morgenpost",
    subject="Die KI-Morgenpost vom 25. November",
    text="Guten Morgen, Anna!\n\n1. Neue Modelle\n",
    html="<p>Guten Morgen, Anna!</p>",
    message_id="<digest.2026-11-25.1@example.com>",
    headers={"List-Unsubscribe": "<https://news.example.com/unsubscribe/abc>"},
    custom_args={"subscriber_id": "1"},
)


def test_prints_recipient_subject_headers_and_text() -> None:
    stream = io.StringIO()
    with ConsoleBackend(stream) as backend:
        result = backend.send(MESSAGE)
    output = stream.getvalue()
    assert "To:" in output and "Anna Schäfer <anna@example.com>" in output
    assert "Subject:" in output and MESSAGE.subject in output
    assert "List-Unsubscribe:" in output and "https://news.example.com/unsubscribe/abc" in output
    assert MESSAGE.message_id in output
    assert "Guten Morgen, Anna!\n\n1. Neue Modelle" in output
    assert "<p>" not in output
    assert result.provider_message_id == "console-1"


def test_defaults_to_stdout_and_numbers_messages(capsys: pytest.CaptureFixture[str]) -> None:
    backend = ConsoleBackend()
    backend.send(MESSAGE)
    assert backend.send(MESSAGE).provider_message_id == "console-2"
    output = capsys.readouterr().out
    assert "Message 1" in output and "Message 2" in output


def test_get_backend_passes_the_stream() -> None:
    stream = io.StringIO()
    backend = get_backend(
        Settings.model_validate({"delivery": {"backend": "console"}}), stream=stream
    )
    assert isinstance(backend, ConsoleBackend)
    backend.send(MESSAGE)
    assert "anna@example.com" in stream.getvalue()
