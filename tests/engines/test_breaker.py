"""CircuitBreaker and GuardedEngine, driven by a fake clock: nothing here sleeps.

Concurrency is simulated two ways: a call made from *inside* another call's function
(single-threaded, deterministic), and real threads held at a barrier or an event.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import local_limiter
from tts_service.engines.base import SpeechEngine
from tts_service.engines.breaker import BreakerState, CircuitBreaker, GuardedEngine
from tts_service.errors import (
    RateLimited,
    SynthesisRejected,
    SynthesisUnavailable,
    UnknownEngineError,
)
from tts_service.testing import FakeEngine, fake_speech
from tts_service.testing.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **options: float) -> CircuitBreaker:
    settings = {"failures": 3, "cooldown_s": 30.0, "max_cooldown_s": 200.0, **options}
    return CircuitBreaker(clock=clock, name="gtts", **settings)  # type: ignore[arg-type]


def ok() -> bytes:
    return b"audio"


def unavailable(retry_after: float | None = None):
    def fail() -> bytes:
        raise SynthesisUnavailable("Google answered 503", retry_after=retry_after)

    return fail


def rejected() -> bytes:
    raise SynthesisRejected("no audio for this text")


def fail_times(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(SynthesisUnavailable):
            breaker.call(unavailable())


def open_breaker(breaker: CircuitBreaker) -> None:
    fail_times(breaker, breaker.failures)
    assert breaker.state is BreakerState.OPEN


# -- CLOSED ------------------------------------------------------------------------------


def test_starts_closed_and_lets_calls_through(clock):
    breaker = make(clock)
    assert breaker.call(ok) == b"audio"
    assert breaker.state is BreakerState.CLOSED
    assert breaker.opened_at is None
    counters = breaker.counters
    assert (counters.calls, counters.successes, counters.failures) == (1, 1, 0)


def test_opens_after_n_consecutive_failures(clock):
    breaker = make(clock, failures=3)
    fail_times(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail_times(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert breaker.opened_at == clock.now
    assert breaker.counters.opened == 1


def test_a_success_resets_the_consecutive_count(clock):
    breaker = make(clock, failures=3, window_failures=100)
    fail_times(breaker, 2)
    breaker.call(ok)
    fail_times(breaker, 2)
    assert breaker.state is BreakerState.CLOSED


def test_opens_on_m_failures_within_the_window_despite_successes(clock):
    breaker = make(clock, failures=3, window_failures=4, window_s=60.0)
    for _ in range(3):
        fail_times(breaker, 1)
        breaker.call(ok)
        clock.advance(10)
    assert breaker.state is BreakerState.CLOSED
    fail_times(breaker, 1)  # the 4th failure within 60 s
    assert breaker.state is BreakerState.OPEN


def test_failures_older_than_the_window_are_forgotten(clock):
    breaker = make(clock, failures=3, window_failures=3, window_s=60.0)
    for _ in range(5):
        fail_times(breaker, 1)
        breaker.call(ok)
        clock.advance(31)  # at most two failures inside any 60 s
    assert breaker.state is BreakerState.CLOSED


def test_window_defaults_to_twice_the_consecutive_threshold(clock):
    assert make(clock, failures=5).window_failures == 10


@pytest.mark.parametrize(
    "error",
    [
        SynthesisRejected("no audio for this text"),
        RateLimited("over budget", retry_after=2.0),
        UnknownEngineError("no such voice"),
        RuntimeError("a bug"),
    ],
    ids=["rejected", "rate-limited", "input", "unexpected"],
)
def test_neutral_errors_never_open_the_breaker(clock, error):
    breaker = make(clock, failures=2, window_failures=2)

    def raise_it() -> bytes:
        raise error

    for _ in range(10):
        with pytest.raises(type(error)):
            breaker.call(raise_it)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.counters.neutral == 10
    assert breaker.counters.failures == 0


def test_a_rejected_text_neither_counts_nor_resets_the_count(clock):
    breaker = make(clock, failures=3, window_failures=100)
    fail_times(breaker, 2)
    with pytest.raises(SynthesisRejected):
        breaker.call(rejected)
    fail_times(breaker, 1)
    assert breaker.state is BreakerState.OPEN


# -- OPEN --------------------------------------------------------------------------------


def test_open_fails_fast_with_the_time_left(clock):
    breaker = make(clock, cooldown_s=30.0)
    open_breaker(breaker)
    clock.advance(12)
    calls = []
    with pytest.raises(SynthesisUnavailable) as caught:
        breaker.call(lambda: calls.append(1) or b"")
    assert calls == []
    assert caught.value.retry_after == pytest.approx(18.0)
    assert not isinstance(caught.value, RateLimited)
    assert breaker.counters.short_circuited == 1


def test_the_engines_longer_retry_after_is_honoured_up_to_the_max(clock):
    breaker = make(clock, failures=1, cooldown_s=30.0, max_cooldown_s=200.0)
    with pytest.raises(SynthesisUnavailable):
        breaker.call(unavailable(retry_after=90.0))
    assert breaker.cooldown == 90.0
    clock.advance(89)
    assert breaker.state is BreakerState.OPEN
    clock.advance(1)
    assert breaker.state is BreakerState.HALF_OPEN

    other = make(clock, failures=1, cooldown_s=30.0, max_cooldown_s=200.0)
    with pytest.raises(SynthesisUnavailable):
        other.call(unavailable(retry_after=10_000.0))
    assert other.cooldown == 200.0


# -- HALF_OPEN ---------------------------------------------------------------------------


def test_half_open_after_the_cool_down(clock):
    breaker = make(clock, cooldown_s=30.0)
    open_breaker(breaker)
    clock.advance(29.9)
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN


def test_one_probe_at_a_time_and_its_success_closes(clock):
    breaker = make(clock)
    open_breaker(breaker)
    clock.advance(30)
    turned_away: list[SynthesisUnavailable] = []

    def probe() -> bytes:
        # Another caller arrives while the probe is in flight: it must not reach the engine.
        try:
            breaker.call(ok)
        except SynthesisUnavailable as exc:
            turned_away.append(exc)
        return b"audio"

    assert breaker.call(probe) == b"audio"
    assert len(turned_away) == 1 and turned_away[0].retry_after is not None
    assert breaker.state is BreakerState.CLOSED
    assert breaker.opened_at is None
    assert breaker.counters.probes == 1
    # Closed again means a fresh count: it takes N failures to open once more.
    fail_times(breaker, breaker.failures - 1)
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_probe_reopens_with_the_cool_down_doubled_up_to_the_max(clock):
    breaker = make(clock, cooldown_s=30.0, max_cooldown_s=200.0)
    open_breaker(breaker)
    seen = []
    for expected in (60.0, 120.0, 200.0, 200.0):
        clock.advance(breaker.cooldown)
        assert breaker.state is BreakerState.HALF_OPEN
        fail_times(breaker, 1)  # the probe
        assert breaker.state is BreakerState.OPEN
        assert breaker.opened_at == clock.now
        seen.append(breaker.cooldown)
        assert seen[-1] == expected
    # A success resets the cool-down to its first value for the next opening.
    clock.advance(breaker.cooldown)
    breaker.call(ok)
    open_breaker(breaker)
    assert breaker.cooldown == 30.0


def test_a_neutral_probe_lets_the_next_caller_probe(clock):
    breaker = make(clock)
    open_breaker(breaker)
    clock.advance(30)
    with pytest.raises(SynthesisRejected):
        breaker.call(rejected)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.call(ok) == b"audio"
    assert breaker.state is BreakerState.CLOSED
    assert breaker.counters.probes == 2


# -- calls that straddle a state change --------------------------------------------------


def test_a_stale_success_does_not_close_an_open_breaker(clock):
    breaker = make(clock, failures=2)

    def slow_success() -> bytes:
        fail_times(breaker, 2)  # meanwhile, other calls fail and open the breaker
        return b"audio"

    breaker.call(slow_success)
    assert breaker.state is BreakerState.OPEN
    assert breaker.counters.successes == 1


def test_failures_in_flight_when_it_opened_do_not_double_the_cool_down(clock):
    breaker = make(clock, failures=2, cooldown_s=30.0)

    def slow_failure() -> bytes:
        fail_times(breaker, 2)
        raise SynthesisUnavailable("timed out too")

    with pytest.raises(SynthesisUnavailable):
        breaker.call(slow_failure)
    assert breaker.cooldown == 30.0
    assert breaker.counters.opened == 1
    assert breaker.counters.failures == 3


# -- threads -----------------------------------------------------------------------------


def test_concurrent_failures_open_it_once(clock):
    breaker = make(clock, failures=3)
    threads = 16
    barrier = threading.Barrier(threads, timeout=5)

    def fail_together() -> bytes:
        barrier.wait()  # all admitted while CLOSED, then all fail
        raise SynthesisUnavailable("503")

    def worker() -> None:
        with pytest.raises(SynthesisUnavailable):
            breaker.call(fail_together)

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    counters = breaker.counters
    assert breaker.state is BreakerState.OPEN
    assert counters.opened == 1
    assert counters.calls == counters.failures == threads


def test_concurrent_callers_in_half_open_send_a_single_probe(clock):
    breaker = make(clock)
    open_breaker(breaker)
    clock.advance(30)
    release = threading.Event()
    probing = threading.Event()

    def probe() -> bytes:
        probing.set()
        assert release.wait(5)
        return b"audio"

    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(breaker.call, probe)
        assert probing.wait(5)
        others = [pool.submit(breaker.call, ok) for _ in range(8)]
        errors = [future.exception(timeout=5) for future in others]
        release.set()
        assert first.result(timeout=5) == b"audio"
    assert all(isinstance(error, SynthesisUnavailable) for error in errors)
    assert breaker.counters.probes == 1
    assert breaker.counters.short_circuited == 8
    assert breaker.state is BreakerState.CLOSED


# -- the wrapper -------------------------------------------------------------------------


def test_guarded_engine_is_an_engine_that_sounds_like_the_one_it_wraps(clock):
    inner = FakeEngine(fake_speech, name="gtts", voice="vi", max_chars=100, concurrency=4)
    guarded = GuardedEngine(inner, make(clock))
    assert isinstance(guarded, SpeechEngine)
    assert (guarded.name, guarded.voice, guarded.max_chars, guarded.concurrency) == (
        "gtts",
        "vi",
        100,
        4,
    )
    assert guarded.audio_format == inner.audio_format
    assert guarded.sound_params == inner.sound_params
    assert guarded.synthesize("Xin chào.", voice="vi") == fake_speech("Xin chào.")
    assert inner.calls == ["Xin chào."]


def test_guarded_engine_skips_the_engine_while_open(clock):
    def broken(text: str) -> bytes:
        raise SynthesisUnavailable(f"503 for {text}")

    inner = FakeEngine(broken, name="gtts")
    guarded = GuardedEngine(inner, make(clock, failures=2))
    for _ in range(5):
        with pytest.raises(SynthesisUnavailable):
            guarded.synthesize("Xin chào.")
    assert len(inner.calls) == 2
    assert guarded.breaker.counters.short_circuited == 3


def test_guarded_engine_close_closes_the_engine_and_wakes_the_limiter(clock):
    class Closable(FakeEngine):
        closed = False

        def close(self) -> None:
            self.closed = True

    inner = Closable(fake_speech)
    limiter = local_limiter(60, clock=clock)
    GuardedEngine(inner, make(clock), limiter=limiter).close()
    assert inner.closed
    with pytest.raises(SynthesisUnavailable):
        limiter.acquire(timeout=1)
    GuardedEngine(FakeEngine(fake_speech), make(clock)).close()  # no close(): fine


@pytest.mark.parametrize(
    "options",
    [
        {"failures": 0},
        {"window_failures": 0},
        {"window_s": 0},
        {"cooldown_s": 0},
        {"cooldown_s": 60.0, "max_cooldown_s": 30.0},
    ],
)
def test_nonsense_settings_are_refused(clock, options):
    with pytest.raises(ValueError):
        make(clock, **options)
