"""The retry policy on its own: waits and deadlines with a fake clock, no sleeping."""

from __future__ import annotations

import pytest

from digest.delivery.retry import Backoff, RetryPolicy, rate_limit_delay

WALL = 1_795_000_000.0


class FakeTime:
    """Monotonic and wall clocks that only move when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return WALL + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def policy(deadline: float, clock: FakeTime, draw: float = 0.5, **extra: float) -> RetryPolicy:
    return RetryPolicy(
        deadline,
        sleep=clock.sleep,
        clock=clock.clock,
        wall_clock=clock.wall_clock,
        random=lambda: draw,
        **extra,  # type: ignore[arg-type]
    )


def test_backoff_doubles_up_to_the_cap_with_full_jitter() -> None:
    backoff = Backoff(base=0.5, cap=30.0)
    assert [backoff.ceiling(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(3, 0.0) == 0.0
    assert backoff.delay(3, 0.5) == 2.0
    assert backoff.delay(3, 0.999) < 4.0
    # Absurd attempt counts neither overflow nor pass the cap.
    assert backoff.ceiling(10_000) == 30.0


def test_rate_limit_waits_until_the_reset_time_plus_jitter() -> None:
    assert rate_limit_delay(str(int(WALL) + 10), WALL, 0.5, 1.0) == 10.5
    assert rate_limit_delay(f" {int(WALL) + 3} ", WALL + 0.25, 0.0, 1.0) == 2.75


@pytest.mark.parametrize("reset", [None, "", "soon", "nan", str(int(WALL) - 5), str(int(WALL))])
def test_rate_limit_without_a_usable_future_reset_gives_none(reset: str | None) -> None:
    assert rate_limit_delay(reset, WALL, 0.5, 1.0) is None


def test_failures_back_off_until_the_deadline_then_give_up() -> None:
    clock = FakeTime()
    budget = policy(5.0, clock).start()
    waits = []
    while budget.after_failure():
        waits.append(clock.sleeps[-1])
    # 0.25 + 0.5 + 1 + 2 = 3.75 s; the next wait (4 s) would end after 5 s.
    assert waits == [0.25, 0.5, 1.0, 2.0]
    assert budget.exhausted
    assert budget.waited == 3.75
    assert clock.now - 100.0 <= 5.0


def test_a_rate_limit_reset_beyond_the_deadline_is_not_waited_for() -> None:
    clock = FakeTime()
    budget = policy(60.0, clock).start()
    assert not budget.after_rate_limit(str(int(WALL + clock.now) + 3600))
    assert clock.sleeps == []
    assert budget.exhausted


def test_rate_limit_wait_uses_the_header_and_falls_back_to_backoff() -> None:
    clock = FakeTime()
    budget = policy(600.0, clock).start()
    assert budget.after_rate_limit(str(int(WALL + clock.now) + 20))
    assert budget.after_rate_limit(None)
    # 20 s plus half the 1 s jitter; then backoff after one failed try: 0.5 * 1 s.
    assert clock.sleeps == [20.5, 0.5]


def test_success_starts_the_backoff_over() -> None:
    clock = FakeTime()
    budget = policy(600.0, clock, draw=1.0).start()
    budget.after_failure()
    budget.after_failure()
    budget.succeeded()
    budget.after_failure()
    assert clock.sleeps == [0.5, 1.0, 0.5]


def test_after_a_batch_gave_up_the_next_batches_do_not_wait_until_a_success() -> None:
    clock = FakeTime()
    shared = policy(1.0, clock)
    first = shared.start()
    while first.after_failure():
        pass
    assert shared.gave_up

    second = shared.start()
    assert not second.after_failure()
    assert second.exhausted

    third = shared.start()
    third.succeeded()
    assert not shared.gave_up
    fourth = shared.start()
    assert fourth.after_failure()


def test_zero_deadline_never_retries() -> None:
    clock = FakeTime()
    budget = policy(0.0, clock, draw=0.0).start()
    assert not budget.after_failure()
    assert not budget.after_rate_limit(None)
    assert clock.sleeps == []


def test_attempts_are_capped_even_when_no_time_passes() -> None:
    clock = FakeTime()
    frozen = RetryPolicy(
        60.0,
        max_attempts=5,
        sleep=clock.sleep,
        clock=lambda: 0.0,
        wall_clock=clock.wall_clock,
        random=lambda: 0.0,
    )
    budget = frozen.start()
    tries = 0
    while budget.after_failure():
        tries += 1
    assert tries == 5
