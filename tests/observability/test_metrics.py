"""``GET /metrics`` against a real app on loopback: requests, cache, engines, jobs, breakers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.helpers import assert_heard_whole, text_tone
from tests.observability.conftest import scrape, value
from tts_service.engines.breaker import CircuitBreaker, GuardedEngine
from tts_service.engines.registry import build_engines
from tts_service.errors import SynthesisRejected, SynthesisUnavailable
from tts_service.observability.metrics import ServiceMetrics, breaker_state
from tts_service.settings import Settings
from tts_service.testing import FakeEngine
from tts_service.testing.fake_google import FakeGoogle

TEXT = (
    "Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, Cụm thi đua tổ chức hội nghị. "
    "Tới dự có đồng chí Nguyễn Thu Hoài, Trưởng Ban thi đua, khen thưởng Sở Nội vụ."
)


def test_a_cold_then_a_cached_read_show_up_in_the_metrics(serve, make_service):
    engine = FakeEngine(text_tone, name="fake")
    service = make_service(engine)
    client = serve(service)
    cold = client.post("/v1/read", json={"text": TEXT})
    assert cold.status_code == 202
    audio = client.get(cold.json()["audio_url"])
    assert audio.status_code == 200
    assert_heard_whole(client, cold.json(), audio.content)
    cached = client.post("/v1/read", json={"text": TEXT})
    assert cached.status_code == 200 and cached.json()["status"] == "ready"
    assert client.get(f"/v1/read/{'0' * 40}").status_code == 404
    assert client.get("/no/such/page").status_code == 404

    samples = scrape(client)
    requests = "tts_http_requests_total"
    assert value(samples, requests, method="POST", route="/v1/read", status="202") == 1
    assert value(samples, requests, method="POST", route="/v1/read", status="200") == 1
    route = "/v1/audio/{article_id}.mp3"
    assert value(samples, requests, method="GET", route=route, status="200") == 1
    assert value(samples, requests, method="GET", route="/v1/read/{article_id}", status="404") == 1
    assert value(samples, requests, method="GET", route="unmatched", status="404") == 1
    # Route templates only: no article id, no raw path, ever becomes a label value.
    routes = {dict(labels).get("route") for _, labels in samples} - {None}
    assert not any(cold.json()["id"] in r or "0" * 40 in r or "/no/" in r for r in routes)
    latency = "tts_http_request_duration_seconds_count"
    assert value(samples, latency, method="POST", route="/v1/read") == 2

    lookups = "tts_cache_lookups_total"
    assert value(samples, lookups, kind="article", result="miss") == 1
    assert value(samples, lookups, kind="article", result="hit") == 1
    chunks = len(engine.calls)
    # The two sentences, the first cut in two at the fake's 100 characters.
    assert chunks == 3
    assert value(samples, lookups, kind="chunk", result="miss") == chunks
    assert value(samples, "tts_chunks_total", engine="fake", outcome="ok") == chunks
    assert value(samples, "tts_synthesis_duration_seconds_count", engine="fake") == chunks
    assert value(samples, "tts_cache_bytes") == service.cache.total_bytes > 0
    # A fake engine has no breaker, so no breaker series for it.
    assert value(samples, "tts_engine_breaker_state", engine="fake") is None


def test_google_429s_are_counted(serve, make_service):
    with FakeGoogle() as fake:
        fake.fail_next(2, status=429)
        settings = Settings(
            engine=("gtts",),
            gtts_base_url=fake.base_url,
            gtts_retries=3,
            gtts_backoff_base_s=0.01,
            gtts_backoff_max_s=0.05,
        )
        service = make_service(*build_engines(settings).values())
        service.metrics.hook_engines(service.engines)
        client = serve(service)
        info = client.post("/v1/read", json={"text": "Xin chào các bạn."}).json()
        audio = client.get(info["audio_url"])
        assert audio.headers["x-tts-engine"] == "gtts"
        samples = scrape(client)
    assert value(samples, "tts_engine_rate_limited_total", engine="gtts") == 2
    responses = "tts_engine_http_responses_total"
    assert value(samples, responses, engine="gtts", status="429") == 2
    assert value(samples, responses, engine="gtts", status="200") == 1
    assert value(samples, "tts_chunks_total", engine="gtts", outcome="ok") == 1


def test_chunk_outcomes_are_counted_per_engine(make_service):
    def refuse(_text):
        raise SynthesisRejected("no audio for this text")

    def down(_text):
        raise SynthesisUnavailable("Google is down")

    service = make_service(FakeEngine(refuse, name="picky"), FakeEngine(down, name="down"))
    plans = service.plan(service.normalize("Xin chào."), title=None, chain=service.chain(None))
    with pytest.raises(SynthesisUnavailable):
        service.synthesize_blocking(plans)
    sample = service.metrics.registry.get_sample_value
    assert sample("tts_chunks_total", {"engine": "picky", "outcome": "rejected"}) == 1
    assert sample("tts_chunks_total", {"engine": "down", "outcome": "unavailable"}) == 1
    assert sample("tts_jobs_finished_total", {"outcome": "failed"}) == 1
    assert sample("tts_jobs_in_progress") == 0


def test_a_finished_job_leaves_nothing_in_progress(make_service):
    service = make_service(FakeEngine(text_tone, name="fake"))
    plans = service.plan(service.normalize(TEXT), title=None, chain=service.chain(None))
    service.synthesize_blocking(plans)
    sample = service.metrics.registry.get_sample_value
    assert sample("tts_jobs_finished_total", {"outcome": "ready"}) == 1
    assert sample("tts_jobs_in_progress") == 0


def test_breaker_state_is_read_at_scrape_time(serve, make_service):
    engine = FakeEngine(text_tone, name="guarded")
    engine.breaker = SimpleNamespace(state="closed")
    client = serve(make_service(engine))
    assert value(scrape(client), "tts_engine_breaker_state", engine="guarded") == 0
    engine.breaker.state = "open"
    assert value(scrape(client), "tts_engine_breaker_state", engine="guarded") == 2


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        (SimpleNamespace(breaker=SimpleNamespace(state="half_open")), 1),
        (SimpleNamespace(breaker_state="half-open"), 1),
        (SimpleNamespace(breaker_state="OPEN"), 2),
        (SimpleNamespace(breaker_state=0), 0),
        (SimpleNamespace(breaker_state=7), None),
        (SimpleNamespace(breaker_state="melted"), None),
        (SimpleNamespace(), None),
    ],
)
def test_breaker_states_map_to_gauge_values(engine, expected):
    assert breaker_state(engine) == expected


def test_a_real_circuit_breaker_is_exported():
    def down(_text):
        raise SynthesisUnavailable("Google is down")

    now = [0.0]
    guarded = GuardedEngine(
        FakeEngine(down),
        CircuitBreaker(failures=1, cooldown_s=10, clock=lambda: now[0]),
    )
    assert breaker_state(guarded) == 0
    with pytest.raises(SynthesisUnavailable):
        guarded.synthesize("Xin chào.")
    assert breaker_state(guarded) == 2
    with pytest.raises(SynthesisUnavailable):
        guarded.synthesize("Xin chào.")  # failed fast by the open breaker
    metrics = ServiceMetrics()
    metrics.observe(
        lambda: SimpleNamespace(cache=SimpleNamespace(total_bytes=0), engines={"gtts": guarded})
    )
    sample = metrics.registry.get_sample_value
    assert sample("tts_engine_breaker_state", {"engine": "gtts"}) == 2
    assert sample("tts_engine_breaker_opened_total", {"engine": "gtts"}) == 1
    assert sample("tts_engine_breaker_short_circuited_total", {"engine": "gtts"}) == 1
    now[0] = 11.0
    assert breaker_state(guarded) == 1


def test_every_app_has_its_own_registry(make_service):
    first, second = ServiceMetrics(), ServiceMetrics()
    first.article_lookup(hit=True)
    assert b'kind="article",result="hit"} 1.0' in first.render()
    assert b'kind="article",result="hit"} 0.0' in second.render()
    assert make_service(FakeEngine(text_tone)).metrics.registry is not first.registry
