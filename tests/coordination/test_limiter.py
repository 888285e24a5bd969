"""BudgetLimiter: the engine chain's acquire(timeout) over a shared budget."""

from __future__ import annotations

import pytest

from tts_service.coordination.limiter import BudgetLimiter
from tts_service.errors import RateLimited, SynthesisUnavailable
from tts_service.lanes import Lane, Ticket, in_lane
from tts_service.testing.clock import FakeClock


def limiter_on(backend):
    """A limiter over the backend's budget; the limiter waits on the same fake clock."""
    backend.clock.auto = True
    # 8 a second: waits of 0.125 s, exact in binary, so they compare exactly.
    budget = backend.budget(480, burst=8)  # reserve 2
    return BudgetLimiter(budget, clock=backend.clock, wait=backend.clock.wait)


def test_listeners_get_the_burst_then_wait_their_turn(backend):
    limiter = limiter_on(backend)
    for _ in range(8):
        limiter.acquire(timeout=10)
    assert backend.clock.waits == []
    limiter.acquire(timeout=10)
    limiter.acquire(timeout=10)
    assert backend.clock.waits == [0.125, 0.125]
    assert (limiter.granted, limiter.refused, limiter.waiting) == (10, 0, 0)


def test_a_listener_is_refused_at_once_when_the_token_comes_too_late(backend):
    limiter = limiter_on(backend)
    for _ in range(8):
        limiter.acquire(timeout=0)
    with pytest.raises(RateLimited) as info:
        limiter.acquire(timeout=0.1)
    assert info.value.retry_after == 0.125
    assert backend.clock.waits == []
    assert (limiter.granted, limiter.refused) == (8, 1)


def test_background_work_stops_at_the_reserve(backend):
    limiter = limiter_on(backend)
    with in_lane(Ticket(Lane.BACKGROUND)):
        for _ in range(6):
            limiter.acquire(timeout=0)
        with pytest.raises(RateLimited):
            limiter.acquire(timeout=0.1)
        # With time to wait, it takes the next token once one is spare above the reserve.
        limiter.acquire(timeout=5)
    assert backend.clock.waits == [0.125]
    # The reserve is still there for a listener.
    limiter.acquire(timeout=0)
    limiter.acquire(timeout=0)
    assert limiter.granted == 9


def test_closed_limiter_refuses(backend):
    limiter = limiter_on(backend)
    limiter.close()
    with pytest.raises(SynthesisUnavailable, match="closed"):
        limiter.acquire(timeout=1)


def test_the_hook_takes_a_token(backend):
    limiter = limiter_on(backend)
    hook = limiter.hook(timeout=0)
    for _ in range(8):
        hook()
    with pytest.raises(RateLimited):
        hook()


def test_a_fake_clock_is_enough():
    """The limiter never sleeps for real: the clock given is the only time it knows."""
    from tts_service.coordination.local import LocalRateBudget

    clock = FakeClock(auto=True)
    limiter = BudgetLimiter(LocalRateBudget(60, burst=1, clock=clock), clock=clock, wait=clock.wait)
    limiter.acquire(timeout=5)
    limiter.acquire(timeout=5)
    assert clock.waits == [1.0]
