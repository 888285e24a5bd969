"""The shared token bucket: burst, reservations in order, refill, the listeners' reserve.

Defaults as Google's budget: 300 a minute (5 a second), burst 60, reserve 15.
"""

from __future__ import annotations

import pytest

from tts_service.coordination.ports import Grant
from tts_service.coordination.sql import SqlRateBudget, create_tables
from tts_service.storage.database import open_engine
from tts_service.testing.clock import FakeClock


def drain(budget, *, listener: bool) -> int:
    """How many tokens can be had at once (no waiting)."""
    taken = 0
    while budget.take(listener=listener, max_wait_s=0.0).taken:
        taken += 1
    return taken


def test_configuration_defaults_as_the_rate_limiter(backend):
    budget = backend.budget(300)
    assert (budget.per_minute, budget.burst, budget.reserve) == (300, 5, 1)
    budget = backend.budget(300, name="b2", burst=60)
    assert (budget.burst, budget.reserve) == (60, 15)


def test_the_burst_goes_at_once_then_listeners_reserve_in_order(backend):
    budget = backend.budget(300, burst=60)
    assert [budget.take(listener=True, max_wait_s=0.0) for _ in range(60)] == [
        Grant(True, 0.0)
    ] * 60
    # Empty: a listener willing to wait reserves the next token, and the one after.
    assert budget.take(listener=True, max_wait_s=0.0) == Grant(False, 0.2)
    assert budget.take(listener=True, max_wait_s=1.0) == Grant(True, 0.2)
    assert budget.take(listener=True, max_wait_s=1.0) == Grant(True, 0.4)
    # The next would be due in 0.6 s: refused for a listener who waits 0.5 s at most.
    assert budget.take(listener=True, max_wait_s=0.5) == Grant(False, 0.6)
    backend.clock.advance(1.0)  # 5 refilled, 2 of them already reserved
    assert drain(budget, listener=True) == 3
    assert budget.take(listener=True, max_wait_s=0.0) == Grant(False, 0.2)


def test_refill_at_the_rate_up_to_the_burst(backend):
    budget = backend.budget(300, burst=60)
    assert drain(budget, listener=True) == 60
    backend.clock.advance(1.0)
    assert drain(budget, listener=True) == 5
    backend.clock.advance(3600.0)
    assert drain(budget, listener=True) == 60


def test_background_work_leaves_the_reserve_to_listeners(backend):
    budget = backend.budget(300, burst=60)
    assert drain(budget, listener=False) == 45
    assert budget.take(listener=False, max_wait_s=10.0) == Grant(False, 0.2)
    # A listener arriving now gets its first 15 requests out at once.
    assert drain(budget, listener=True) == 15
    assert budget.take(listener=False, max_wait_s=10.0) == Grant(False, 3.2)
    backend.clock.advance(4.0)  # 20 tokens: 5 above the reserve
    assert drain(budget, listener=False) == 5


def test_background_never_goes_ahead_of_a_listener_reservation(backend):
    budget = backend.budget(300, burst=60)
    drain(budget, listener=True)
    assert budget.take(listener=True, max_wait_s=5.0) == Grant(True, 0.2)
    backend.clock.advance(1.0)  # 5 refilled, 1 of them already the listener's
    assert drain(budget, listener=False) == 0
    assert drain(budget, listener=True) == 4


def test_a_clock_stepping_back_neither_drains_nor_refills(backend):
    budget = backend.budget(300, burst=60)
    for _ in range(10):
        budget.take(listener=True, max_wait_s=0.0)
    backend.clock.advance(-100.0)
    assert drain(budget, listener=True) == 50
    backend.clock.advance(100.0)  # back where it was: no time has passed for the bucket
    assert drain(budget, listener=True) == 0
    backend.clock.advance(1.0)
    assert drain(budget, listener=True) == 5


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_processes_share_one_bucket(database_url):
    """Two budgets on one database (two processes) spend the same tokens."""
    clock = FakeClock(start=5_000.0)
    engine_a, engine_b = open_engine(database_url), open_engine(database_url)
    try:
        create_tables(engine_a)
        a = SqlRateBudget(engine_a, "gtts", 300, burst=60, clock=clock)
        b = SqlRateBudget(engine_b, "gtts", 300, burst=60, clock=clock)
        assert drain(a, listener=True) == 60
        assert drain(b, listener=True) == 0
        clock.advance(1.0)
        assert (drain(b, listener=False), drain(a, listener=True)) == (0, 5)
        # Another budget name is another bucket.
        other = SqlRateBudget(engine_b, "other", 300, burst=60, clock=clock)
        assert drain(other, listener=True) == 60
    finally:
        engine_a.dispose()
        engine_b.dispose()
