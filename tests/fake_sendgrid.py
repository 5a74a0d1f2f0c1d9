"""A fake SendGrid API: a real HTTP server on 127.0.0.1, so the real library is tested.

Use the ``fake_sendgrid`` fixture (register this module as a plugin, see below) and
point the backend at ``fake_sendgrid.url``. Every request is recorded in
``fake_sendgrid.requests``; the answers are scripted:

* ``fake_sendgrid.reply(Reply(...), Reply(...))`` queues answers for the next requests,
  in order;
* ``fake_sendgrid.responder = lambda request: Reply(...)`` decides for every request
  after the queue is empty (return None for the default);
* otherwise the answer is ``202 Accepted`` with a fresh ``X-Message-Id``.

A :class:`Reply` can also wait before answering (``delay``), close the connection
without answering (``drop_connection``) or cut its body short (``truncate_body_to``).
Helpers build SendGrid-shaped answers: :func:`error_reply`, :func:`rate_limited`.

Register the fixture with ``pytest_plugins = ["tests.fake_sendgrid"]`` in
tests/conftest.py (or in a test module) and import the helpers from ``tests.fake_sendgrid``.
PYTEST_DONT_REWRITE: test modules import this file before pytest sees it as a plugin,
and it has no asserts to rewrite.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # The body parsed as JSON, or None when it is not JSON.
    json: Any


@dataclass(frozen=True)
class Reply:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    # bytes are sent as they are, str as UTF-8, anything else as JSON.
    body: Any = b""
    # Seconds to wait before answering (cut short when the server stops).
    delay: float = 0.0
    # Read the request, then close the connection without any answer.
    drop_connection: bool = False
    # Announce the full Content-Length but send only this many body bytes.
    truncate_body_to: int | None = None

    def body_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def error_reply(status: int, *messages: str, field: str | None = None, **extra: Any) -> Reply:
    """An answer shaped like SendGrid's: ``{"errors": [{"message", "field", "help"}]}``."""
    body = {"errors": [{"message": text, "field": field, "help": None} for text in messages]}
    return Reply(status=status, headers={"Content-Type": "application/json"}, body=body, **extra)


def rate_limited(reset: int, limit: int = 600) -> Reply:
    """SendGrid's 429, with X-RateLimit-Reset as a Unix timestamp."""
    reply = error_reply(429, "too many requests")
    headers = {
        **reply.headers,
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }
    return Reply(status=429, headers=headers, body=reply.body)


Responder = Callable[[RecordedRequest], Reply | None]


class FakeSendGrid:
    """The server; a context manager, started and stopped by the fixture."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.responder: Responder | None = None
        self.stopping = threading.Event()
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        # A short poll interval keeps shutdown (and so each test) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-sendgrid", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reply(self, *replies: Reply) -> None:
        """Queue answers for the next requests, first one first."""
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> FakeSendGrid:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes handlers that are still delaying
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSendGrid:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            scripted = self.responder(request)
            if scripted is not None:
                return scripted
        return Reply(202, headers={"X-Message-Id": f"fake-{next(self._ids):06d}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSendGrid

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout test) makes our late answer fail with a
        # broken pipe; that is the point of the test, not an error to print.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # never let a stuck client hang the test run

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=dict(self.headers.items()),
            body=body,
            json=parsed,
        )
        reply = fake._answer(request)
        if reply.delay and fake.stopping.wait(reply.delay):
            self.close_connection = True
            return
        if reply.drop_connection:
            self.close_connection = True
            return
        payload = reply.body_bytes()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if reply.truncate_body_to is not None:
            payload = payload[: reply.truncate_body_to]
        self.wfile.write(payload)
        self.wfile.flush()
        self.close_connection = True

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


@pytest.fixture
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    """A running fake SendGrid API, stopped after the test."""
    with FakeSendGrid() as server:
        yield server
