"""How long a batch waits before trying again, and when it gives up.

The policy is provider-neutral and pure apart from the four functions it is
given (``sleep``, a monotonic ``clock``, a ``wall_clock`` in Unix seconds and
``random`` in [0, 1)), so tests drive it without waiting.

* A rate-limited answer (429) waits until the provider's reset time (a Unix
  timestamp, compared with the wall clock) plus up to ``rate_limit_jitter``
  seconds, so concurrent senders do not return in the same instant. Without a
  usable reset time it backs off like any other failure.
* Other transient failures (server errors, a request that never left) back
  off exponentially with full jitter: a uniform wait in
  ``[0, min(cap, base * 2**attempt))``.
* Waiting stops at the deadline counted from the batch's first attempt: a wait
  that would end at or after it is not started, and the caller leaves the
  batch for a later run instead.
* After one batch gave up, the next batch of the same run gets no waiting at
  all (one attempt each) until a request succeeds again, so a provider outage
  ends the run in minutes instead of holding every batch for the full deadline.
"""

from __future__ import annotations

import random as _random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Sleep = Callable[[float], None]
Clock = Callable[[], float]
Draw = Callable[[], float]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter (AWS architecture blog, 2015)."""

    base: float = 0.5
    cap: float = 30.0

    def ceiling(self, attempt: int) -> float:
        """The longest wait after ``attempt`` failed tries (0 for the first retry)."""
        # min() before the power would overflow for absurd attempt counts.
        return min(self.cap, self.base * 2.0 ** min(attempt, 64))

    def delay(self, attempt: int, draw: float) -> float:
        """The wait for ``attempt``, with ``draw`` uniform in [0, 1)."""
        return draw * self.ceiling(attempt)


def rate_limit_delay(reset: str | None, now: float, draw: float, jitter: float) -> float | None:
    """Seconds until the ``X-RateLimit-Reset`` time ``reset`` plus jitter.

    ``now`` is the wall clock in Unix seconds. None when the header is missing,
    unreadable or already in the past (a skewed clock): the caller then backs
    off exponentially rather than hammering the provider.
    """
    if not reset:
        return None
    try:
        at = float(reset.strip())
    except ValueError:
        return None
    if at != at or at <= now:  # NaN or past
        return None
    return (at - now) + draw * jitter


class RetryPolicy:
    """Shared by every batch of a run; :meth:`start` gives one batch its budget.

    Thread-safe: batches run concurrently and only share the "gave up" flag.
    """

    def __init__(
        self,
        deadline: float,
        *,
        backoff: Backoff = Backoff(),
        rate_limit_jitter: float = 1.0,
        max_attempts: int = 100,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        random: Draw = _random.random,
    ) -> None:
        self.deadline = max(0.0, deadline)
        self.backoff = backoff
        self.rate_limit_jitter = rate_limit_jitter
        # A guard, not a tuning knob: the deadline ends real retries long before.
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.clock = clock
        self.wall_clock = wall_clock
        self.random = random
        self._lock = threading.Lock()
        self._gave_up = False

    def start(self) -> RetryBudget:
        """The budget of one batch, counted from now (its first attempt)."""
        with self._lock:
            deadline = 0.0 if self._gave_up else self.deadline
        return RetryBudget(self, deadline)

    @property
    def gave_up(self) -> bool:
        """True after a batch gave up and no request has succeeded since."""
        with self._lock:
            return self._gave_up

    def _set_gave_up(self, value: bool) -> None:
        with self._lock:
            self._gave_up = value


class RetryBudget:
    """The waiting one batch may still do; not shared between threads."""

    def __init__(self, policy: RetryPolicy, deadline: float) -> None:
        self.policy = policy
        self.started = policy.clock()
        self.ends = self.started + deadline
        # Failed tries since the last success: drives the backoff.
        self.attempt = 0
        # Seconds actually slept, for reports and tests.
        self.waited = 0.0
        # Set once a wait was refused: the rest of the batch is left for later.
        self.exhausted = False

    def after_rate_limit(self, reset: str | None) -> bool:
        """Wait after a 429; False (and no wait) when that would pass the deadline."""
        policy = self.policy
        draw = policy.random()
        delay = rate_limit_delay(reset, policy.wall_clock(), draw, policy.rate_limit_jitter)
        if delay is None:
            delay = policy.backoff.delay(self.attempt, draw)
        return self._wait(delay)

    def after_failure(self) -> bool:
        """Wait after a transient failure; False when that would pass the deadline."""
        return self._wait(self.policy.backoff.delay(self.attempt, self.policy.random()))

    def succeeded(self) -> None:
        """An answer came back that is not worth retrying: start the backoff over."""
        self.attempt = 0
        if self.policy.gave_up:
            self.policy._set_gave_up(False)

    def give_up(self) -> None:
        """Stop waiting for this batch (and make the next batches try only once)."""
        self.exhausted = True
        self.policy._set_gave_up(True)

    def remaining(self) -> float:
        return max(0.0, self.ends - self.policy.clock())

    def _wait(self, delay: float) -> bool:
        policy = self.policy
        late = policy.clock() + delay >= self.ends
        if self.exhausted or late or self.attempt >= policy.max_attempts:
            self.give_up()
            return False
        if delay > 0:
            policy.sleep(delay)
            self.waited += delay
        self.attempt += 1
        return True
