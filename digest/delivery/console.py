"""The console backend: prints a readable summary of each message, for trying things out."""

from __future__ import annotations

import sys
from typing import TextIO

from digest.delivery.base import Backend, OutgoingMessage, SendResult

_RULE = "-" * 72


def _address(email: str, name: str | None) -> str:
    return f"{name} <{email}>" if name else email


class ConsoleBackend(Backend):
    """Writes each message to ``stream`` (standard output unless given).

    Nothing is sent; the provider id is the message's position in this run.
    """

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._count = 0

    @property
    def stream(self) -> TextIO:
        # Looked up on each use, so a redirected sys.stdout is honoured.
        return self._stream if self._stream is not None else sys.stdout

    def send(self, message: OutgoingMessage) -> SendResult:
        self._count += 1
        fields = [
            ("From", _address(message.from_email, message.from_name)),
            ("To", _address(message.to_email, message.to_name)),
            ("Reply-To", message.reply_to or ""),
            ("Subject", message.subject),
            ("Message-ID", message.message_id),
            ("Date", message.date.isoformat() if message.date else ""),
            *message.headers.items(),
            *((f"custom_args.{key}", value) for key, value in message.custom_args.items()),
            ("Categories", ", ".join(message.categories)),
        ]
        width = max(len(label) for label, _ in fields) + 1
        lines = [f"{_RULE}", f"Message {self._count}"]
        lines += [f"{label + ':':<{width}} {value}" for label, value in fields if value]
        lines += ["", message.text.rstrip("\n"), f"({len(message.html)} characters of HTML)"]
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        return SendResult(provider_message_id=f"console-{self._count}")
