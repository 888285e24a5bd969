"""The guarded gTTS engine in a SpeechService, against the loopback fake of Google.

Breaker and limiter run on fake clocks, so cool-downs and minutes pass instantly; the only
real waits are gTTS's millisecond backoffs and loopback round trips. Google's engine reads
one chunk at a time (``concurrency=1``) so which requests reach the fake is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import local_limiter
from tts_service.engines.breaker import BreakerState, CircuitBreaker, GuardedEngine
from tts_service.engines.gtts_engine import GTTSEngine
from tts_service.engines.registry import build_engines
from tts_service.jobs import Job, JobState
from tts_service.settings import Settings
from tts_service.testing import FakeEngine, FakeGoogle, FaultPlan, fake_speech
from tts_service.testing.clock import FakeClock

GOOGLE_DOWN = FaultPlan(rate_5xx=1.0)
FAST = {"timeout": 2.0, "retries": 1, "backoff_base": 0.001, "backoff_max": 0.01}
ATTEMPTS = FAST["retries"] + 1

# One chunk per sentence; every article is new text, so nothing comes from the cache.
ARTICLES = [
    "Hôm nay trời đẹp. Chúng tôi đi học sớm. Buổi chiều có mưa rào nhẹ ở vùng núi.",
    "Giá lúa tăng nhẹ. Nông dân phấn khởi. Thương lái về tận ruộng thu mua.",
    "Đội tuyển thắng trận. Người hâm mộ xuống đường. Thành phố rực rỡ cờ hoa.",
    "Mùa thu Hà Nội. Lá vàng rơi đầy phố. Hương hoa sữa thoang thoảng khắp nơi.",
    "Trường khai giảng. Học sinh náo nức. Thầy cô chuẩn bị bài giảng mới.",
    "Tàu cập bến sớm. Hàng hóa được bốc dỡ. Cảng biển nhộn nhịp suốt đêm.",
]


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def guarded_gtts(fake, clock, *, failures=1, limiter=None, before_request=None):
    engine = GTTSEngine(
        base_url=fake.base_url, concurrency=1, before_request=before_request, **FAST
    )
    breaker = CircuitBreaker(
        failures=failures, cooldown_s=30.0, max_cooldown_s=600.0, clock=clock, name="gtts"
    )
    return GuardedEngine(engine, breaker, limiter=limiter)


def fallback() -> FakeEngine:
    return FakeEngine(fake_speech, name="espeak")


def read(service, text: str) -> Job:
    """Read ``text`` through the service and wait (on the job's event) until it is stored."""
    result = service.read(text=text)
    job = service.job(result.id)
    assert job is not None and job.wait(10), "the article was not read in time"
    assert job.state is JobState.READY, job.error
    return job


def sentences(text: str) -> list[str]:
    return [part.strip() + "." for part in text.split(".") if part.strip()]


# -- the circuit breaker -----------------------------------------------------------------


def test_breaker_sends_articles_to_the_fallback_until_google_recovers(fake, clock, make_service):
    gtts = guarded_gtts(fake, clock, failures=1)
    service = make_service(gtts, fallback())
    fake.faults = GOOGLE_DOWN

    # Google fails: the first chunk uses up its retries, then the fallback reads the article.
    assert read(service, ARTICLES[0]).engine == "espeak"
    assert fake.requests == [sentences(ARTICLES[0])[0]] * ATTEMPTS
    assert gtts.breaker.state is BreakerState.OPEN
    assert gtts.breaker.opened_at == clock.now

    # Open: the next articles go straight to the fallback, Google is not asked at all.
    asked = len(fake.requests)
    refused = gtts.breaker.counters.short_circuited
    assert read(service, ARTICLES[1]).engine == "espeak"
    clock.advance(29.0)
    assert read(service, ARTICLES[2]).engine == "espeak"
    assert len(fake.requests) == asked
    # Only the first article's failing call went through the breaker; of each later
    # article at least its first chunk met the open breaker (how many more depends on
    # when the job cancels the chunks already queued for Google, so only that is exact).
    assert gtts.breaker.counters.calls == 1
    assert gtts.breaker.counters.short_circuited >= refused + 2

    # Cool-down over and Google healthy again: one probe, then Google reads again.
    fake.faults = None
    clock.advance(1.0)
    assert gtts.breaker.state is BreakerState.HALF_OPEN
    assert read(service, ARTICLES[3]).engine == "gtts"
    assert gtts.breaker.state is BreakerState.CLOSED
    assert gtts.breaker.counters.probes == 1
    assert fake.requests[asked:] == sentences(ARTICLES[3])
    assert read(service, ARTICLES[4]).engine == "gtts"


def test_a_failed_probe_keeps_google_alone_for_twice_as_long(fake, clock, make_service):
    gtts = guarded_gtts(fake, clock, failures=1)
    service = make_service(gtts, fallback())
    fake.faults = GOOGLE_DOWN
    read(service, ARTICLES[0])
    clock.advance(30.0)

    # The probe is the only chunk sent; it fails after its retries and re-opens for 60 s.
    asked = len(fake.requests)
    assert read(service, ARTICLES[1]).engine == "espeak"
    assert fake.requests[asked:] == [sentences(ARTICLES[1])[0]] * ATTEMPTS
    assert gtts.breaker.state is BreakerState.OPEN
    assert gtts.breaker.cooldown == 60.0

    fake.faults = None
    asked = len(fake.requests)
    clock.advance(30.0)
    assert read(service, ARTICLES[2]).engine == "espeak"
    assert len(fake.requests) == asked
    clock.advance(30.0)
    assert read(service, ARTICLES[3]).engine == "gtts"
    assert gtts.breaker.cooldown == 30.0  # back to the first cool-down once closed


def test_it_takes_n_failed_articles_to_open(fake, clock, make_service):
    # One-chunk articles: with the breaker still closed, a longer article's next chunk
    # could start before the failed one cancels it, and add requests of its own.
    gtts = guarded_gtts(fake, clock, failures=3)
    service = make_service(gtts, fallback())
    fake.faults = GOOGLE_DOWN
    short = [sentences(text)[0] for text in ARTICLES]
    for i, text in enumerate(short[:3]):
        assert gtts.breaker.state is BreakerState.CLOSED
        assert read(service, text).engine == "espeak"
        assert len(fake.requests) == (i + 1) * ATTEMPTS  # each article pays for retries
    assert gtts.breaker.state is BreakerState.OPEN
    read(service, short[3])
    assert len(fake.requests) == 3 * ATTEMPTS


def test_a_rejected_chunk_does_not_open_the_breaker(fake, clock, make_service):
    gtts = guarded_gtts(fake, clock, failures=1)
    service = make_service(gtts, fallback())
    fake.fail_next(1, status=400)  # permanent: this text's fault, not Google being down
    assert read(service, ARTICLES[0]).engine == "espeak"
    assert gtts.breaker.state is BreakerState.CLOSED
    assert read(service, ARTICLES[1]).engine == "gtts"


# -- the rate limit ----------------------------------------------------------------------


def test_requests_reaching_google_never_exceed_the_budget(fake, make_service):
    clock = FakeClock(auto=True)
    limiter = local_limiter(6, burst=2, clock=clock, wait=clock.wait)  # one every 10 s
    granted_at: list[float] = []

    def before_request() -> None:
        limiter.acquire(timeout=3600)
        granted_at.append(clock())

    # Three attempts a chunk, so both 429s may land on the same chunk and it still reads.
    options = {**FAST, "retries": 2}
    engine = GTTSEngine(
        base_url=fake.base_url, concurrency=3, before_request=before_request, **options
    )
    gtts = GuardedEngine(engine, CircuitBreaker(clock=clock), limiter=limiter)
    service = make_service(gtts, fallback())
    fake.fail_next(2, status=429)  # retried: each retry is one more request to pay for

    start = clock.now
    text = ARTICLES[0] + " " + ARTICLES[1]
    assert read(service, text).engine == "gtts"

    chunks = len(sentences(text))
    assert len(fake.requests) == chunks + 2
    assert len(granted_at) == len(fake.requests)  # every request took a token first
    for count, at in enumerate(sorted(granted_at), start=1):
        budget = limiter.burst + limiter.rate * (at - start)
        assert count <= budget + 1e-9, f"request {count} at +{at - start:.1f}s over budget"
    # And the limit really held requests back: 8 requests at 6 a minute after a burst of 2.
    assert clock.now - start >= (len(fake.requests) - limiter.burst) / limiter.rate - 1e-9


def test_running_out_of_tokens_falls_back_without_opening_the_breaker(fake, make_service):
    clock = FakeClock()  # never advanced: after the burst, no token comes
    limiter = local_limiter(60, burst=1, clock=clock)
    gtts = guarded_gtts(fake, clock, limiter=limiter, before_request=limiter.hook(timeout=0))
    service = make_service(gtts, fallback())

    assert read(service, ARTICLES[0]).engine == "espeak"
    assert fake.requests == sentences(ARTICLES[0])[:1]
    assert gtts.breaker.state is BreakerState.CLOSED
    # The burst's one token went to the first chunk; the clock never moves, so none comes
    # back. The next chunk is refused and the article falls back; whether the chunk queued
    # behind it (a job keeps two in flight) reaches the empty bucket before the job cancels
    # it is thread timing, so only the first refusal is certain.
    assert limiter.granted == 1
    assert limiter.refused in (1, 2)  # the one refused, and at most the one queued behind it
    assert gtts.breaker.counters.failures == 0  # our own throttling is not Google failing


# -- wiring from settings ----------------------------------------------------------------


def test_registry_builds_gtts_guarded_and_espeak_bare():
    settings = Settings(
        engine=("gtts", "espeak"),
        gtts_requests_per_minute=120,
        breaker_failures=7,
        breaker_cooldown_s=12,
        breaker_max_cooldown_s=99,
    )
    engines = build_engines(settings)
    try:
        gtts = engines["gtts"]
        assert isinstance(gtts, GuardedEngine)
        assert isinstance(gtts.engine, GTTSEngine)
        assert (gtts.breaker.failures, gtts.breaker.cooldown_s, gtts.breaker.max_cooldown_s) == (
            7,
            12.0,
            99.0,
        )
        assert gtts.limiter is not None and gtts.limiter.per_minute == 120
        assert gtts.engine.before_request is not None
        # Guarding changes nothing in the cache keys.
        with GTTSEngine() as bare:
            assert gtts.sound_params == bare.sound_params
        assert not isinstance(engines["espeak"], GuardedEngine)
    finally:
        for engine in engines.values():
            getattr(engine, "close", lambda: None)()


def test_zero_requests_per_minute_means_no_limiter(monkeypatch):
    monkeypatch.setenv("TTS_ENGINE", "gtts")
    monkeypatch.setenv("TTS_GTTS_REQUESTS_PER_MINUTE", "0")
    gtts = build_engines(Settings())["gtts"]
    assert isinstance(gtts, GuardedEngine)
    try:
        assert gtts.limiter is None
        assert isinstance(gtts.engine, GTTSEngine) and gtts.engine.before_request is None
    finally:
        gtts.close()


def test_default_settings():
    settings = Settings()
    assert settings.gtts_requests_per_minute == 300
    assert settings.breaker_failures == 5
    assert settings.breaker_cooldown_s == 30.0
    assert settings.breaker_max_cooldown_s == 600.0


def test_a_max_cool_down_below_the_first_one_fails_at_start_up():
    with pytest.raises(ValueError):
        build_engines(Settings(engine=("gtts",), breaker_cooldown_s=60, breaker_max_cooldown_s=30))
