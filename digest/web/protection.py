"""Protections of the public sign-up form: CSRF, Origin, honeypot, fill time, rate limit.

Nothing here needs server-side sessions. The form carries a signed,
timestamped token bound to a random nonce that is also set as a
``SameSite=Lax; HttpOnly`` cookie (double submit): another site can neither
read the token nor send the cookie along with a cross-site POST. A present
``Origin`` header must name this site.

Bots are told nothing: a filled honeypot or a form sent faster than a person
can type gets the ordinary "check your inbox" page and nothing is stored.
"""

from __future__ import annotations

import hmac
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from digest.tokens import TokenSigner

COOKIE: Final = "digest_form"
TOKEN_FIELD: Final = "form_token"
# A plausible name, so that form-filling bots fill it in.
HONEYPOT_FIELD: Final = "website"
# A person needs longer than this to type an address and press the button.
MIN_FILL_TIME: Final = timedelta(seconds=2)
# A form left open overnight still works; an older one is reloaded.
FORM_MAX_AGE: Final = timedelta(hours=12)


class Verdict(Enum):
    OK = "ok"
    # No, a forged or an expired token, a foreign Origin: refused openly (403).
    FORGED = "forged"
    # Honeypot filled or sent too fast: answered as if it worked, nothing stored.
    BOT = "bot"


@dataclass(frozen=True)
class IssuedForm:
    token: str
    nonce: str


class FormGuard:
    """Issues and checks the hidden form token (stateless CSRF protection)."""

    def __init__(
        self, signer: TokenSigner, *, clock: Callable[[], datetime], base_url: str
    ) -> None:
        self._signer = signer
        self._clock = clock
        self._base_netloc = urlsplit(base_url).netloc.lower()

    def issue(self, request: Request) -> IssuedForm:
        """A token for a freshly shown form; reuses the browser's nonce if it has one.

        Reusing it keeps two open tabs working: a new nonce would invalidate
        the form in the other tab.
        """
        nonce = request.cookies.get(COOKIE, "")
        if not _plausible_nonce(nonce):
            nonce = secrets.token_urlsafe(18)
        issued = int(self._clock().timestamp())
        token = self._signer.sign_timed(f"{nonce}.{issued}", "form")
        return IssuedForm(token=token, nonce=nonce)

    def set_cookie(self, response: Response, request: Request, issued: IssuedForm) -> None:
        """Set (or refresh, so it outlives the newest form) the nonce cookie."""
        response.set_cookie(
            COOKIE,
            issued.nonce,
            max_age=int(FORM_MAX_AGE.total_seconds()),
            path="/subscribe",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def check(self, request: Request, form: Mapping[str, object]) -> Verdict:
        """Judge a submitted form; see :class:`Verdict`."""
        if not self.same_origin(request):
            return Verdict.FORGED
        token = form.get(TOKEN_FIELD)
        cookie = request.cookies.get(COOKIE, "")
        if not isinstance(token, str) or not _plausible_nonce(cookie):
            return Verdict.FORGED
        subject = self._signer.verify_timed(token, "form", FORM_MAX_AGE)
        if not isinstance(subject, str) or "." not in subject:
            return Verdict.FORGED
        nonce, _, issued_text = subject.rpartition(".")
        if not hmac.compare_digest(nonce.encode(), cookie.encode()) or not issued_text.isdigit():
            return Verdict.FORGED
        # The signature's own timestamp is wall-clock time; the age checks use
        # the injected clock so that tests (and a frozen clock) can move time.
        age = self._clock().timestamp() - int(issued_text)
        if age > FORM_MAX_AGE.total_seconds():
            return Verdict.FORGED
        honeypot = form.get(HONEYPOT_FIELD)
        if isinstance(honeypot, str) and honeypot.strip():
            return Verdict.BOT
        if age < MIN_FILL_TIME.total_seconds():
            return Verdict.BOT
        return Verdict.OK

    def same_origin(self, request: Request) -> bool:
        """False when an Origin header names another site (or is ``null``)."""
        origin = request.headers.get("origin")
        if origin is None:
            return True
        netloc = urlsplit(origin).netloc.lower()
        allowed = {self._base_netloc, request.headers.get("host", "").lower()}
        return bool(netloc) and netloc in allowed


def _plausible_nonce(value: str) -> bool:
    return 16 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)


class RateLimiter:
    """At most ``limit`` hits per key (client IP) in any sliding ``window``.

    In memory and per process: every worker process counts on its own, so
    with N workers a client may get N times the limit; a restart forgets all
    counts. That is enough to stop a script from signing up a list of
    strangers through one address; a distributed attack needs a proxy-level
    limit anyway.
    """

    # Above this many tracked clients, idle ones are swept on the next hit.
    SWEEP_AT: Final = 10_000

    def __init__(self, limit: int, window: timedelta = timedelta(hours=1)) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[datetime]] = {}

    def hit(self, key: str, now: datetime) -> bool:
        """Count one hit; False if it is over the limit (and then it is not counted)."""
        if len(self._hits) > self.SWEEP_AT:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str, now: datetime) -> int:
        """Seconds until ``key`` may try again (at least 1)."""
        hits = self._hits.get(key)
        if not hits:
            return 1
        return max(1, int((hits[0] + self.window - now).total_seconds()) + 1)

    def _sweep(self, now: datetime) -> None:
        idle = [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.window]
        for key in idle:
            del self._hits[key]
