"""No listener waits for a Google that cannot answer (issue 15, "fallback without waiting").

Failures that no retry fixes (unknown host, refused connection, TLS) open the breaker at
once; the probe after the cool-down runs in the background while the fallback voice reads
the probe's listener; and the answer names the engine that will really read.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import httpx
import pytest

from tts_service.engines.breaker import BreakerState, CircuitBreaker, GuardedEngine
from tts_service.engines.gtts_engine import GTTSEngine
from tts_service.engines.registry import build_engines
from tts_service.errors import SynthesisUnavailable
from tts_service.jobs import Job, JobState
from tts_service.settings import Settings
from tts_service.testing import FakeEngine, FakeGoogle, FaultPlan, fake_speech
from tts_service.testing.clock import FakeClock

FAST = {"timeout": 2.0, "retries": 3, "backoff_base": 0.001, "backoff_max": 0.01}
ARTICLES = [
    "Sáng nay trời nắng. Học sinh đến trường.",
    "Chiều nay có mưa. Nông dân về sớm.",
    "Tối nay trăng sáng. Phố phường nhộn nhịp.",
    "Đêm nay gió lạnh. Nhà nhà đóng cửa.",
]


class Attempts:
    """A ``before_request`` hook that counts the HTTP attempts the engine makes."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def failing_transport(cause: BaseException) -> httpx.MockTransport:
    """A transport whose every connection fails the way httpx reports ``cause``."""

    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise cause
        except BaseException as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("cause", "reason"),
    [
        (socket.gaierror(-2, "Name or service not known"), "does not resolve"),
        (ssl.SSLCertVerificationError("certificate verify failed"), "TLS handshake"),
    ],
)
def test_an_unreachable_google_is_asked_once(cause, reason):
    attempts = Attempts()
    engine = GTTSEngine(transport=failing_transport(cause), before_request=attempts, **FAST)
    with engine, pytest.raises(SynthesisUnavailable, match=reason) as caught:
        engine.synthesize("Alô?")
    assert caught.value.unreachable is True
    assert attempts.count == 1


def test_a_refused_connection_is_asked_once():
    attempts = Attempts()
    # A bound socket that never listens: connecting to it is refused, and the port stays ours.
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        port = closed_port.getsockname()[1]
        with GTTSEngine(
            base_url=f"http://127.0.0.1:{port}", before_request=attempts, **FAST
        ) as engine:
            with pytest.raises(SynthesisUnavailable, match="refused") as caught:
                engine.synthesize("Alô?")
    assert caught.value.unreachable is True
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert attempts.count == 1


def test_a_passing_failure_is_still_retried():
    """A reset connection may pass: it keeps its retries and is not 'unreachable'."""
    attempts = Attempts()
    engine = GTTSEngine(
        transport=failing_transport(ConnectionResetError(104, "Connection reset by peer")),
        before_request=attempts,
        **FAST,
    )
    with engine, pytest.raises(SynthesisUnavailable) as caught:
        engine.synthesize("Alô?")
    assert caught.value.unreachable is False
    assert attempts.count == FAST["retries"] + 1


# -- the breaker -------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_one_unreachable_failure_opens_the_breaker(clock):
    breaker = CircuitBreaker(failures=5, cooldown_s=30.0, clock=clock, name="gtts")

    def unreachable() -> bytes:
        raise SynthesisUnavailable("no DNS", unreachable=True)

    with pytest.raises(SynthesisUnavailable):
        breaker.call(unreachable)
    assert breaker.state is BreakerState.OPEN
    assert breaker.cooldown == 30.0
    assert breaker.available is False


def open_breaker(breaker: CircuitBreaker) -> None:
    def unreachable() -> bytes:
        raise SynthesisUnavailable("no DNS", unreachable=True)

    with pytest.raises(SynthesisUnavailable):
        breaker.call(unreachable)


def test_a_background_probe_does_not_hold_its_caller(clock):
    breaker = CircuitBreaker(cooldown_s=30.0, clock=clock, name="gtts", probe_in_background=True)
    open_breaker(breaker)
    clock.advance(30.0)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.available is False

    entered, release = threading.Event(), threading.Event()

    def slow_google() -> bytes:
        entered.set()
        release.wait(10)
        return b"audio"

    # The caller is answered at once although the probe is still inside Google's call.
    with pytest.raises(SynthesisUnavailable, match="probe"):
        breaker.call(slow_google)
    assert entered.wait(5)
    assert breaker.counters.probes == 1
    # Others fail fast as well while it runs, without starting a second probe.
    with pytest.raises(SynthesisUnavailable):
        breaker.call(lambda: b"never called")
    assert breaker.counters.probes == 1

    release.set()
    assert breaker.wait_probe(5)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.available is True
    assert breaker.call(lambda: b"next") == b"next"


def test_a_failed_background_probe_reopens_for_twice_as_long(clock):
    breaker = CircuitBreaker(cooldown_s=30.0, clock=clock, name="gtts", probe_in_background=True)
    open_breaker(breaker)
    clock.advance(30.0)

    def still_down() -> bytes:
        raise SynthesisUnavailable("503")

    with pytest.raises(SynthesisUnavailable, match="probe"):
        breaker.call(still_down)
    assert breaker.wait_probe(5)
    assert breaker.state is BreakerState.OPEN
    assert breaker.cooldown == 60.0


def test_the_registry_probes_in_the_background_only_with_a_fallback():
    with_fallback = build_engines(Settings(engine=("gtts", "espeak")))["gtts"]
    alone = build_engines(Settings(engine=("gtts",)))["gtts"]
    try:
        assert isinstance(with_fallback, GuardedEngine) and isinstance(alone, GuardedEngine)
        assert with_fallback.breaker.probe_in_background is True
        assert alone.breaker.probe_in_background is False
    finally:
        for engine in (with_fallback, alone):
            engine.close()


# -- in the service ----------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        yield server


def read(service, text: str) -> tuple[str, Job]:
    """Read ``text``; return the engine the answer named and the finished job."""
    result = service.read(text=text)
    job = service.job(result.id)
    assert job is not None and job.wait(10), "the article was not read in time"
    assert job.state is JobState.READY, job.error
    return result.engine, job


def test_offline_google_costs_one_attempt_and_the_answer_names_the_fallback(clock, make_service):
    attempts = Attempts()
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        port = closed_port.getsockname()[1]
        engine = GTTSEngine(
            base_url=f"http://127.0.0.1:{port}", concurrency=1, before_request=attempts, **FAST
        )
        breaker = CircuitBreaker(failures=5, clock=clock, name="gtts", probe_in_background=True)
        gtts = GuardedEngine(engine, breaker)
        service = make_service(gtts, FakeEngine(fake_speech, name="espeak"))

        # The first listener: one refused attempt, then the fallback reads at once.
        _, job = read(service, ARTICLES[0])
        assert job.engine == "espeak"
        assert attempts.count == 1
        assert breaker.state is BreakerState.OPEN

        # The next one is told the truth from the start: eSpeak reads, Google is not asked.
        named, job = read(service, ARTICLES[1])
        assert (named, job.engine) == ("espeak", "espeak")
        assert attempts.count == 1


def test_the_probes_listener_hears_the_fallback_at_once(fake, clock, make_service):
    engine = GTTSEngine(base_url=fake.base_url, concurrency=1, **FAST)
    breaker = CircuitBreaker(failures=1, clock=clock, name="gtts", probe_in_background=True)
    gtts = GuardedEngine(engine, breaker)
    service = make_service(gtts, FakeEngine(fake_speech, name="espeak"))
    fake.faults = FaultPlan(rate_5xx=1.0)
    assert read(service, ARTICLES[0])[1].engine == "espeak"
    assert breaker.state is BreakerState.OPEN

    # Cool-down over; Google is back but its answer to the probe is held.
    fake.faults = None
    fake.hang_next(1)
    clock.advance(30.0)
    asked = len(fake.requests)
    named, job = read(service, ARTICLES[1])
    assert (named, job.engine) == ("espeak", "espeak")
    assert fake.wait_for_requests(asked + 1)
    assert breaker.counters.probes == 1

    # The probe's answer closes the breaker; Google reads the next article.
    fake.release_hangs()
    assert breaker.wait_probe(10)
    assert breaker.state is BreakerState.CLOSED
    named, job = read(service, ARTICLES[2])
    assert (named, job.engine) == ("gtts", "gtts")
