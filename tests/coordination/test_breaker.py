"""A breaker shared by processes: one opens it for all, only one probes.

Two :class:`CircuitBreaker` objects on one store stand for two processes (on the SQL
backends they share nothing but the database).
"""

from __future__ import annotations

import pytest

from tts_service.coordination import breaker_state as machine
from tts_service.coordination.breaker_state import BreakerPolicy, BreakerState
from tts_service.engines.breaker import CircuitBreaker
from tts_service.errors import RateLimited, SynthesisUnavailable

POLICY = BreakerPolicy(
    failures=3, window_failures=4, window_s=60, cooldown_s=30, max_cooldown_s=120,
    probe_timeout_s=10,
)  # fmt: skip


def pair(backend):
    """Two processes' breakers for gTTS on one backend."""
    store = backend.breaker_store(POLICY)
    return (
        breaker(store, backend.clock),
        breaker(store, backend.clock),
    )


def breaker(store, clock):
    """One process's breaker for gTTS over ``store``, with the thresholds of ``POLICY``."""
    return CircuitBreaker(
        failures=POLICY.failures,
        window_failures=POLICY.window_failures,
        window_s=POLICY.window_s,
        cooldown_s=POLICY.cooldown_s,
        max_cooldown_s=POLICY.max_cooldown_s,
        probe_timeout_s=POLICY.probe_timeout_s,
        clock=clock,
        name="gtts",
        store=store,
    )


def fail(retry_after=None):
    raise SynthesisUnavailable("Google answered 503", retry_after=retry_after)


def failing(breaker, times, retry_after=None):
    for _ in range(times):
        with pytest.raises(SynthesisUnavailable, match="Google answered 503"):
            breaker.call(lambda: fail(retry_after))


def refused(breaker):
    """The breaker's refusal (the function is never called)."""
    called = []
    with pytest.raises(SynthesisUnavailable, match="skipped by its circuit breaker") as info:
        breaker.call(lambda: called.append(1))
    assert called == []
    return info.value


def test_closed_breaker_passes_calls(backend):
    a, b = pair(backend)
    assert a.call(lambda: "mp3") == "mp3"
    assert (a.state, b.state) == (BreakerState.CLOSED, BreakerState.CLOSED)


def test_failures_in_one_process_open_it_for_the_other(backend):
    a, b = pair(backend)
    failing(a, 2)
    assert b.state is BreakerState.CLOSED
    failing(b, 1)  # the third in a row, seen by another process
    assert a.state is BreakerState.OPEN
    assert refused(a).retry_after == 30.0
    backend.clock.advance(12)
    assert refused(b).retry_after == 18.0


def test_failures_within_the_window_open_it_despite_successes(backend):
    a, b = pair(backend)
    for _ in range(3):
        failing(a, 1)
        b.call(lambda: None)
    assert a.state is BreakerState.CLOSED
    backend.clock.advance(61)  # the first three leave the window
    failing(b, 1)
    assert a.state is BreakerState.CLOSED
    failing(a, 1)
    b.call(lambda: None)
    failing(b, 2)
    assert a.state is BreakerState.OPEN


def test_only_one_process_probes_and_its_success_closes_it_for_all(backend):
    a, b = pair(backend)
    failing(a, 3)
    backend.clock.advance(30)
    assert b.state is BreakerState.HALF_OPEN
    seen = []

    def probe():
        # While a's probe runs, b is turned away.
        error = refused(b)
        seen.append((error.retry_after, "a probe call is testing it" in str(error)))
        return "mp3"

    assert a.call(probe) == "mp3"
    assert seen == [(1.0, True)]
    assert (a.state, b.state) == (BreakerState.CLOSED, BreakerState.CLOSED)
    assert b.call(lambda: "ok") == "ok"


def test_a_failed_probe_doubles_the_cool_down_up_to_the_max(backend):
    a, b = pair(backend)
    failing(a, 3)
    for expected in (60.0, 120.0, 120.0):
        backend.clock.advance(POLICY.max_cooldown_s)
        failing(b, 1)  # the probe
        assert refused(a).retry_after == expected


def test_the_engine_hint_lengthens_the_opening(backend):
    a, b = pair(backend)
    failing(a, 3, retry_after=90.0)
    assert refused(b).retry_after == 90.0


def test_a_probe_whose_process_died_is_replaced_after_its_deadline(backend):
    a, b = pair(backend)
    failing(a, 3)
    backend.clock.advance(30)
    # Process a admits its probe and dies before reporting.
    now = backend.clock()
    admission = a.store.update("gtts", lambda record: machine.admit(record, now, POLICY))
    assert admission.ticket is not None and admission.ticket.probe
    backend.clock.advance(9)
    refused(b)
    backend.clock.advance(1)  # the probe's deadline
    assert b.call(lambda: "mp3") == "mp3"
    assert a.state is BreakerState.CLOSED


def test_rate_limits_and_bugs_are_neutral(backend):
    a, b = pair(backend)
    for _ in range(5):
        with pytest.raises(RateLimited):
            a.call(lambda: (_ for _ in ()).throw(RateLimited("budget", retry_after=1.0)))
        with pytest.raises(KeyError):
            b.call(lambda: {}["x"])
    assert a.state is BreakerState.CLOSED
    failing(a, 3)
    backend.clock.advance(30)
    # A neutral probe frees the slot for the next caller at once.
    with pytest.raises(RateLimited):
        a.call(lambda: (_ for _ in ()).throw(RateLimited("budget", retry_after=1.0)))
    assert b.call(lambda: "mp3") == "mp3"
    assert a.state is BreakerState.CLOSED


def test_results_of_calls_admitted_before_it_opened_change_nothing(backend):
    a, b = pair(backend)
    slow_failure = []

    def slow():
        # While this call runs, other calls open the breaker (and it half-opens later).
        failing(b, 3)
        slow_failure.append(b.store.read("gtts").generation)
        fail()

    with pytest.raises(SynthesisUnavailable, match="Google answered 503"):
        a.call(slow)
    record = a.store.read("gtts")
    # The stale failure did not re-open it with a doubled cool-down.
    assert (record.state, record.generation, record.open_for) == (
        BreakerState.OPEN,
        slow_failure[0],
        30.0,
    )
