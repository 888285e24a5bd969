"""The engine's rate limiter (a BudgetLimiter over this process's LocalRateBudget), driven by
a fake clock: waits move fake time or block until the test does."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import local_limiter
from tts_service.coordination.limiter import LANE_CHECK_S, BudgetLimiter
from tts_service.errors import RateLimited, SynthesisUnavailable
from tts_service.lanes import Lane, Ticket, in_lane
from tts_service.testing.clock import FakeClock


def test_a_burst_goes_at_once_then_tokens_come_at_the_rate():
    clock = FakeClock(500.0, auto=True)
    limiter = local_limiter(60, burst=3, clock=clock, wait=clock.wait)  # one a second
    start = clock.now
    for _ in range(3):
        limiter.acquire(timeout=0)
    assert clock.waits == [] and clock.now == start
    limiter.acquire(timeout=5)
    assert clock.now - start == pytest.approx(1.0)
    limiter.acquire(timeout=5)
    assert clock.now - start == pytest.approx(2.0)
    assert limiter.granted == 5


def test_the_default_burst_is_one_seconds_worth():
    assert local_limiter(300).burst == 5
    assert local_limiter(6).burst == 1


def test_a_quiet_spell_refills_up_to_the_burst_and_no_more():
    clock = FakeClock(500.0, auto=True)
    limiter = local_limiter(60, burst=2, clock=clock, wait=clock.wait)
    limiter.acquire(timeout=0)
    limiter.acquire(timeout=0)
    clock.advance(3600)
    limiter.acquire(timeout=0)
    limiter.acquire(timeout=0)
    with pytest.raises(RateLimited):
        limiter.acquire(timeout=0)


def test_a_wait_beyond_the_timeout_is_refused_at_once_with_retry_after():
    clock = FakeClock(500.0, auto=True)
    limiter = local_limiter(30, burst=1, clock=clock, wait=clock.wait)  # one per 2 s
    limiter.acquire(timeout=0)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(timeout=1.5)
    assert isinstance(caught.value, SynthesisUnavailable)
    assert caught.value.retry_after == pytest.approx(2.0)
    assert clock.waits == []
    assert limiter.refused == 1
    # Nothing was reserved by the refusal: the next token is still 2 s away, not 4.
    limiter.acquire(timeout=2.0)
    assert clock.now == pytest.approx(502.0)


def test_waiters_reserve_their_turn_in_order():
    clock = FakeClock(500.0, auto=True)
    limiter = local_limiter(120, burst=1, clock=clock, wait=clock.wait)  # one per 0.5 s
    times = []
    for _ in range(6):
        limiter.acquire(timeout=10)
        times.append(clock.now - 500.0)
    assert times == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])


def test_threads_never_get_more_than_the_budget():
    clock = FakeClock(500.0)
    limiter = local_limiter(60, burst=1, clock=clock, wait=clock.wait)  # one a second
    got = threading.Semaphore(0)
    acquired_at: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter.acquire(timeout=60)
        with lock:
            acquired_at.append(clock())
        got.release()

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(worker) for _ in range(4)]
        assert got.acquire(timeout=5)  # the burst token, at once
        for step in range(1, 4):
            assert clock.wait_for_sleepers(4 - step)
            assert limiter.waiting == 4 - step
            with lock:
                assert len(acquired_at) == step  # nobody else got through meanwhile
            clock.advance(1.0)
            assert got.acquire(timeout=5)
        for future in futures:
            future.result(timeout=5)
    assert sorted(acquired_at) == pytest.approx([500.0, 501.0, 502.0, 503.0])
    assert limiter.waiting == 0


def test_close_wakes_a_waiter():
    clock = FakeClock(500.0)
    calls = 0
    about_to_wait = threading.Event()

    def watched_clock() -> float:
        # Reads: 1 at construction, 2 for the burst token, 3 for the waiter's reservation,
        # 4 just before it waits.
        nonlocal calls
        calls += 1
        if calls == 4:
            about_to_wait.set()
        return clock()

    limiter = local_limiter(1, burst=1, clock=watched_clock)  # real Event wait, 60 s away
    limiter.acquire(timeout=0)
    with ThreadPoolExecutor(1) as pool:
        waiter = pool.submit(limiter.acquire, 120)
        assert about_to_wait.wait(5)
        limiter.close()
        error = waiter.exception(timeout=5)
    assert isinstance(error, SynthesisUnavailable) and not isinstance(error, RateLimited)
    with pytest.raises(SynthesisUnavailable):
        limiter.acquire(timeout=120)


def test_hook_acquires_with_the_given_timeout():
    clock = FakeClock(500.0, auto=True)
    limiter = local_limiter(60, burst=1, clock=clock, wait=clock.wait)
    hook = limiter.hook(timeout=0.5)
    hook()
    with pytest.raises(RateLimited):
        hook()


def background(limiter: BudgetLimiter, timeout: float, ticket: Ticket | None = None) -> None:
    """Acquire as a registry job's chunk does: in the background lane."""
    with in_lane(ticket or Ticket(Lane.BACKGROUND)):
        limiter.acquire(timeout)


def test_background_work_leaves_the_reserve_to_listeners():
    clock = FakeClock(500.0, auto=True)
    limiter = local_limiter(60, burst=4, reserve=2, clock=clock, wait=clock.wait)  # one a second
    background(limiter, 0)
    background(limiter, 0)
    # Two tokens left, both kept for listeners: the catalogue waits for the third.
    with pytest.raises(RateLimited) as caught:
        background(limiter, 0.5)
    assert caught.value.retry_after == pytest.approx(1.0)
    limiter.acquire(timeout=0)
    limiter.acquire(timeout=0)
    assert clock.waits == []
    # Empty now; background takes a token only once three are back (one above the reserve).
    background(limiter, 5)
    assert clock.now - 500.0 == pytest.approx(3.0)
    assert limiter.granted == 5 and limiter.refused == 1


def test_the_default_reserve_is_a_quarter_of_the_burst_and_leaves_one_token():
    assert local_limiter(300, burst=60).reserve == 15
    assert local_limiter(60, burst=1).reserve == 0
    assert local_limiter(60, burst=4, reserve=10).reserve == 3


def test_a_listener_goes_ahead_of_background_work_already_waiting():
    clock = FakeClock(500.0)
    limiter = local_limiter(60, burst=1, reserve=0, clock=clock, wait=clock.wait)
    limiter.acquire(timeout=0)
    order: list[str] = []

    def catalogue() -> None:
        background(limiter, 60)
        order.append("background")

    def listener() -> None:
        limiter.acquire(60)
        order.append("listener")

    with ThreadPoolExecutor(2) as pool:
        waiting = pool.submit(catalogue)
        assert clock.wait_for_sleepers(1)  # the background chunk waits for the refill
        arriving = pool.submit(listener)  # comes later, reserves the next token
        assert clock.wait_for_sleepers(2)
        clock.advance(1.0)
        arriving.result(timeout=5)
        # The listener took the token that came at 501: none is left for the background
        # chunk before 502, however often it looks.
        assert not waiting.done()
        clock.advance(1.0)
        waiting.result(timeout=5)
        assert clock.now - 500.0 == pytest.approx(2.0)
    assert order == ["listener", "background"]


def test_a_background_chunk_promoted_while_waiting_takes_a_listeners_token():
    clock = FakeClock(500.0)
    limiter = local_limiter(60, burst=4, reserve=3, clock=clock, wait=clock.wait)
    background(limiter, 0)  # 3 left, all in the reserve
    ticket = Ticket(Lane.BACKGROUND)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(background, limiter, 60, ticket)
        assert clock.wait_for_sleepers(1)  # a second away, for a background chunk
        ticket.lane = Lane.LISTENER  # a listener opened the article
        clock.advance(LANE_CHECK_S)
        waiting.result(timeout=5)
    assert clock.now - 500.0 == pytest.approx(LANE_CHECK_S)


@pytest.mark.parametrize("options", [{"per_minute": 0}, {"per_minute": -5}, {"burst": 0}])
def test_nonsense_settings_are_refused(options):
    with pytest.raises(ValueError):
        local_limiter(**{"per_minute": 60, **options})
