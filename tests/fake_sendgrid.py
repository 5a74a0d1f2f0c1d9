"""A fake SendGrid API: a real HTTP server on 127.0.0.1, so the real library is tested.

In tests
========
Use the ``fake_sendgrid`` fixture (registered in tests/conftest.py with
``pytest_plugins = ["tests.fake_sendgrid"]``) and point the backend at
``fake_sendgrid.url``. Every request is recorded in ``fake_sendgrid.requests``
and, with the answer it got, in ``fake_sendgrid.exchanges``. The answers are
scripted:

* ``fake_sendgrid.reply(Reply(...), Reply(...))`` queues answers for the next requests,
  in order;
* ``fake_sendgrid.responder = lambda request: Reply(...)`` decides for every request
  after the queue is empty (return None for the default);
* otherwise the built-in endpoints answer (below), and anything else gets
  ``202 Accepted`` with a fresh ``X-Message-Id``.

A :class:`Reply` can also wait before answering (``delay``), close the connection
after reading the request without answering (``drop_connection``: the request
counts as processed when its status is 2xx, like SendGrid accepting a request
whose answer is then lost), close it before reading the body
(``drop_before_body``, queued replies only), or cut its body short
(``truncate_body_to``).

Helpers build SendGrid-shaped answers and responders: :func:`error_reply`,
:func:`rate_limited`, :func:`refuse_addresses` (400 naming the personalization
of chosen addresses, else the default answer), :func:`every` (a fault on every
n-th request).

``fake_sendgrid.accepted_counts()`` counts, per address, the mail/send requests
that named it and were answered (or processed) with 2xx, so a test can check
that every address was accepted exactly once.

Built-in endpoints: ``POST /v3/mail/batch`` (201 ``{"batch_id"}``),
``GET /v3/mail/batch/{id}``, ``POST /v3/user/scheduled_sends`` (201; 400 when the
batch already has a status, as SendGrid does), ``GET`` and ``PATCH``
``/v3/user/scheduled_sends/{id}``.

As a separate process
=====================
::

    python -m tests.fake_sendgrid [--port 0] [--log FILE] [--fast]
                                  [--fault KIND[=ARG]@N ...] [--refuse EMAIL ...]

prints its URL (``http://127.0.0.1:PORT``) as the first line on stdout, then
serves until SIGTERM or SIGINT. Options:

``--log FILE``
    one JSON line per request, flushed at once (so it survives a SIGKILL of
    the client or the server): ``{"n", "method", "path", "status", "accepted",
    "answered", "to": [[addresses of personalization 0], ...]}``. Count
    ``accepted`` lines per address to check exactly-once delivery.
``--fast``
    for benchmarks: request bodies are neither parsed nor kept; log lines carry
    ``"personalizations"`` (a count) instead of ``"to"``.
``--fault KIND[=ARG]@N``
    every N-th mail/send request gets the fault: ``429`` (ARG: seconds until
    X-RateLimit-Reset, default 1), ``500``/``502``/``503``..., ``slow=SECONDS``
    (then 202), ``drop`` (processed, then the connection is closed without an
    answer), ``drop-before`` (closed before the body is read; not processed).
    May be repeated; the first matching fault wins.
``--refuse EMAIL``
    answer 400 naming the personalization of EMAIL whenever a request contains
    it (repeatable).

PYTEST_DONT_REWRITE: test modules import this file before pytest sees it as a plugin,
and it has no asserts to rewrite.
"""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest

MAIL_SEND = "/v3/mail/send"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # The body parsed as JSON, or None when it is not JSON (or not kept: fast mode).
    json: Any
    # Sequence number, from 1.
    n: int = 0

    def recipients(self) -> list[list[str]]:
        """The ``to`` addresses of each personalization of a mail/send body."""
        return recipients_of(self.json)


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
    # Close the connection without reading the request body (queued replies only).
    drop_before_body: bool = False
    # Announce the full Content-Length but send only this many body bytes.
    truncate_body_to: int | None = None

    def body_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass(frozen=True)
class Exchange:
    """One request and what the fake did with it."""

    n: int
    method: str
    path: str
    status: int | None
    # SendGrid took the request (2xx), whether or not the client got the answer.
    accepted: bool
    # The client was sent a complete answer (no drop, cut or timeout on our side).
    answered: bool
    to: tuple[tuple[str, ...], ...] = ()
    personalizations: int = 0


def recipients_of(body: Any) -> list[list[str]]:
    if not isinstance(body, dict):
        return []
    result = []
    for personalization in body.get("personalizations") or []:
        to = personalization.get("to") or [] if isinstance(personalization, dict) else []
        result.append([str(item.get("email")) for item in to if isinstance(item, dict)])
    return result


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


def refuse_addresses(
    addresses: Collection[str],
    *,
    message: str = "Does not contain a valid address.",
    name_field: bool = True,
) -> Responder:
    """400 for any mail/send request containing one of ``addresses``, else the default.

    The error names each offending personalization as SendGrid does
    (``personalizations.3.to.0.email``), or carries no field with
    ``name_field=False`` (to test isolation by halving).
    """
    chosen = {address.lower() for address in addresses}

    def responder(request: RecordedRequest) -> Reply | None:
        if request.path != MAIL_SEND:
            return None
        errors = []
        for index, to in enumerate(request.recipients()):
            for position, email in enumerate(to):
                if email.lower() in chosen:
                    where = f"personalizations.{index}.to.{position}.email" if name_field else None
                    errors.append({"message": message, "field": where, "help": None})
        if not errors:
            return None
        return Reply(400, {"Content-Type": "application/json"}, {"errors": errors})

    return responder


def every(
    n: int, reply: Reply | Callable[[], Reply], *, then: Responder | None = None
) -> Responder:
    """``reply`` for every ``n``-th mail/send request; ``then`` (or the default) otherwise."""
    counter = itertools.count(1)
    lock = threading.Lock()

    def responder(request: RecordedRequest) -> Reply | None:
        if request.path == MAIL_SEND:
            with lock:
                k = next(counter)
            if k % n == 0:
                return reply() if callable(reply) else reply
        return then(request) if then is not None else None

    return responder


class FakeSendGrid:
    """The server; a context manager, started and stopped by the fixture.

    ``fast`` keeps neither bodies nor parsed JSON (for benchmarks); ``log`` gets
    one JSON line per request.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        fast: bool = False,
        log: IO[str] | None = None,
    ) -> None:
        self.requests: list[RecordedRequest] = []
        self.exchanges: list[Exchange] = []
        self.responder: Responder | None = None
        # Decides from the request line alone, before the body is read (needed
        # for drop_before_body); None lets the body be read and answered as usual.
        self.early: Callable[[str, str], Reply | None] | None = None
        self.fast = fast
        self.log = log
        self.stopping = threading.Event()
        # Built-in scheduled-send state: batch ids created, and their status.
        self.batch_ids: list[str] = []
        self.scheduled: dict[str, str] = {}
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._server = _Server((host, port), _Handler)
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

    def accepted_counts(self) -> Counter[str]:
        """Per address: mail/send requests naming it that SendGrid took (2xx)."""
        counts: Counter[str] = Counter()
        with self._lock:
            exchanges = list(self.exchanges)
        for exchange in exchanges:
            if exchange.accepted and exchange.path == MAIL_SEND:
                for to in exchange.to:
                    counts.update(to)
        return counts

    def mail_sends(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.path == MAIL_SEND]

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

    def _next_number(self) -> int:
        return next(self._numbers)

    def _early_reply(self, method: str, path: str) -> Reply | None:
        with self._lock:
            if self._queue and self._queue[0].drop_before_body:
                return self._queue.popleft()
        return self.early(method, path) if self.early is not None else None

    def _answer(self, request: RecordedRequest, early: Reply | None) -> Reply:
        with self._lock:
            if not self.fast:
                self.requests.append(request)
            if early is not None:
                return early
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            scripted = self.responder(request)
            if scripted is not None:
                return scripted
        return self._builtin(request)

    def _builtin(self, request: RecordedRequest) -> Reply:
        path, method = request.path.rstrip("/"), request.method
        json_headers = {"Content-Type": "application/json"}
        if path == "/v3/mail/batch" and method == "POST":
            batch_id = secrets.token_urlsafe(24)
            with self._lock:
                self.batch_ids.append(batch_id)
            return Reply(201, json_headers, {"batch_id": batch_id})
        if path.startswith("/v3/mail/batch/") and method == "GET":
            batch_id = path.rsplit("/", 1)[1]
            if batch_id in self.batch_ids:
                return Reply(200, json_headers, {"batch_id": batch_id})
            return error_reply(400, "invalid batch id")
        if path == "/v3/user/scheduled_sends" and method == "POST":
            body = request.json if isinstance(request.json, dict) else {}
            batch_id, status = str(body.get("batch_id") or ""), body.get("status")
            if status not in ("cancel", "pause") or not batch_id:
                return error_reply(400, "status must be cancel or pause", field="status")
            with self._lock:
                if batch_id in self.scheduled:
                    return error_reply(400, "batch id already has a status", field="batch_id")
                self.scheduled[batch_id] = status
            return Reply(201, json_headers, {"batch_id": batch_id, "status": status})
        if path.startswith("/v3/user/scheduled_sends/"):
            batch_id = path.rsplit("/", 1)[1]
            with self._lock:
                current = self.scheduled.get(batch_id)
                if method == "GET":
                    entries = [] if current is None else [{"batch_id": batch_id, "status": current}]
                    return Reply(200, json_headers, entries)
                if method == "PATCH" and current is not None:
                    body = request.json if isinstance(request.json, dict) else {}
                    self.scheduled[batch_id] = str(body.get("status"))
                    return Reply(204)
                if method == "DELETE" and current is not None:
                    del self.scheduled[batch_id]
                    return Reply(204)
            return error_reply(404, "batch id not found")
        return Reply(202, headers={"X-Message-Id": f"fake-{next(self._ids):06d}"})

    def _record(self, request: RecordedRequest, reply: Reply | None, answered: bool) -> None:
        status = None if reply is None else reply.status
        accepted = status is not None and 200 <= status < 300
        if self.fast:
            to: tuple[tuple[str, ...], ...] = ()
            # Counting is cheap; parsing a megabyte per request is not.
            count = request.body.count(b'"to":')
        else:
            to = tuple(tuple(addresses) for addresses in request.recipients())
            count = len(to)
        exchange = Exchange(
            request.n, request.method, request.path, status, accepted, answered, to, count
        )
        with self._lock:
            self.exchanges.append(exchange)
            if self.log is not None:
                line: dict[str, Any] = {
                    "n": exchange.n,
                    "method": exchange.method,
                    "path": exchange.path,
                    "status": status,
                    "accepted": accepted,
                    "answered": answered,
                }
                if self.fast:
                    line["personalizations"] = count
                else:
                    line["to"] = [list(addresses) for addresses in to]
                self.log.write(json.dumps(line) + "\n")
                self.log.flush()


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
        n = fake._next_number()
        headers = dict(self.headers.items())
        early = fake._early_reply(self.command, self.path)
        if early is not None and early.drop_before_body:
            request = RecordedRequest(self.command, self.path, headers, b"", None, n)
            fake._answer(request, early)
            fake._record(request, None, answered=False)
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed = None
        if not fake.fast and body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=headers,
            body=body,
            json=parsed,
            n=n,
        )
        reply = fake._answer(request, early)
        if reply.drop_before_body:
            # Too late to leave the body unread: drop without processing it.
            fake._record(request, None, answered=False)
            self.close_connection = True
            return
        lost = reply.drop_connection or reply.truncate_body_to is not None
        fake._record(request, reply, answered=not lost and not reply.delay)
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


# --- command line ---------------------------------------------------------------------


def _fault(spec: str) -> tuple[int, Callable[[], Reply]]:
    """``KIND[=ARG]@N`` → (N, a function making the reply)."""
    try:
        kind, every_n = spec.rsplit("@", 1)
        n = int(every_n)
        name, _, arg = kind.partition("=")
        if n < 1:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected KIND[=ARG]@N, got {spec!r}") from None
    if name == "429":
        seconds = float(arg or 1)
        return n, lambda: rate_limited(int(time.time() + seconds) + 1)
    if name.isdigit() and 500 <= int(name) < 600:
        status = int(name)
        return n, lambda: error_reply(status, "fake server error")
    if name == "slow":
        delay = float(arg or 1)
        return n, lambda: Reply(202, {"X-Message-Id": f"slow-{secrets.token_hex(6)}"}, delay=delay)
    if name == "drop":
        return n, lambda: Reply(202, drop_connection=True)
    if name == "drop-before":
        return n, lambda: Reply(drop_before_body=True)
    raise argparse.ArgumentTypeError(f"unknown fault {name!r} in {spec!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_sendgrid", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="write one JSON line per request to this file")
    parser.add_argument("--fast", action="store_true", help="do not parse or keep bodies")
    parser.add_argument("--fault", action="append", type=_fault, default=[], metavar="KIND@N")
    parser.add_argument("--refuse", action="append", default=[], metavar="EMAIL")
    args = parser.parse_args(argv)

    log = Path(args.log).open("a", encoding="utf-8") if args.log else None  # noqa: SIM115
    fake = FakeSendGrid(host=args.host, port=args.port, fast=args.fast, log=log)
    responder: Responder | None = refuse_addresses(args.refuse) if args.refuse else None
    faults: list[tuple[int, Callable[[], Reply]]] = args.fault
    # Faults are chosen from the request line, before the body is read, so that
    # drop-before can leave the body unread.
    counter = itertools.count(1)
    lock = threading.Lock()

    def early(method: str, path: str) -> Reply | None:
        if path.rstrip("/") != MAIL_SEND or not faults:
            return None
        with lock:
            k = next(counter)
        for n, make in faults:
            if k % n == 0:
                return make()
        return None

    fake.early = early
    fake.responder = responder
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with fake:
        print(fake.url, flush=True)
        stop.wait()
    if log is not None:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
