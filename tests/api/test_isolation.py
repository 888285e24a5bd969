"""The served app processes request text in worker processes, under a deadline.

Over real HTTP: while the worst input known is being processed, the server keeps
answering; the hostile request gets a clear 422 soon after the deadline, and the pool
serves the next listener with a fresh worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from tests.helpers import text_tone
from tts_service.api.main import text_pool
from tts_service.cache import AudioCache
from tts_service.settings import Settings
from tts_service.synthesis import SpeechService
from tts_service.testing import FakeEngine

# The extractor's dateline rule backtracked exponentially on this phrase repeated (23
# times: 10 s, frozen server); long ordinary text after it keeps the work above the
# deadline even once every rule is linear, so the test holds whatever the rules do: with
# linear rules, normalising 95,000 characters still takes about 0.4 s of CPU, eight times
# this deadline (0.3 s let it through once the rules were fixed).
DEADLINE_S = 0.05
# Ordinary work runs under a roomy deadline, so a loaded machine cannot fail it; the tests
# tighten the pool's deadline only while hostile texts are sent.
ROOMY_S = 30.0
KEY = "cms-key-0123456789abcdef"


def hostile_text(seed_text: str) -> str:
    filler = (seed_text.strip() + "\n\n") * (95_000 // (len(seed_text) + 2))
    return "cập nhật lúc " * 30 + "\n\n" + filler


@pytest.fixture
def isolated(tmp_path, serve):
    """A live server whose service processes text in a warmed two-worker pool."""
    settings = Settings(
        cache_dir=tmp_path / "cache",
        engine=("espeak",),
        text_workers=2,
        text_deadline_s=ROOMY_S,
        client_synth_burst=50,
        client_text_burst=50,
        api_keys=[{"name": "cms", "key": KEY}],
    )
    cache = AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes)
    engine = FakeEngine(text_tone, name="espeak")
    service = SpeechService(
        settings, engines={"espeak": engine}, cache=cache, isolation=text_pool(settings)
    )
    service.warm_up()  # as the app's lifespan does for the service it builds
    try:
        yield serve(service), service
    finally:
        service.close()


@contextmanager
def tight_deadline(service: SpeechService, seconds: float = DEADLINE_S) -> Iterator[None]:
    service.isolation.deadline_s = seconds  # type: ignore[attr-defined]
    try:
        yield
    finally:
        service.isolation.deadline_s = ROOMY_S  # type: ignore[attr-defined]


def test_healthz_answers_while_the_worst_input_is_processed(isolated, seed_text):
    client, service = isolated
    text = hostile_text(seed_text)
    with tight_deadline(service), ThreadPoolExecutor(2) as runner:
        started = time.monotonic()
        hostile = [
            runner.submit(client.post, "/v1/read", json={"text": text}),
            runner.submit(client.post, "/v1/normalize", json={"text": text + "\n\nHết."}),
        ]
        health: list[float] = []
        while not all(f.done() for f in hostile) or not health:
            asked = time.monotonic()
            assert client.get("/healthz").status_code == 200
            health.append(time.monotonic() - asked)
        answers = [f.result() for f in hostile]
        took = time.monotonic() - started

    assert [a.status_code for a in answers] == [422, 422], [a.text[:200] for a in answers]
    for answer in answers:
        assert "Văn bản quá phức tạp để xử lý" in answer.json()["detail"]
        assert "text too complex" in answer.json()["detail"]
    # The bound: no request of any content makes /healthz wait a second.
    assert max(health) < 1.0, health
    # Each request's steps stop at their deadlines: seconds, not the minutes unchecked
    # backtracking takes (a generous margin for a loaded machine).
    assert took < 3 * DEADLINE_S + 10
    assert service.isolation.replaced == 2  # type: ignore[attr-defined]
    assert "tts_text_workers_killed_total 2.0" in client.get("/metrics").text

    # Fresh workers read the next article as usual.
    answer = client.post("/v1/read", json={"text": "Sáng nay, UBND tỉnh họp."})
    assert answer.status_code == 202, answer.text  # a new article, being read
    assert client.get(answer.json()["audio_url"]).status_code == 200


def test_the_editors_api_checks_articles_in_the_workers_too(isolated, seed_text):
    client, service = isolated
    # Registering only extracts the article, which is fast once linear (95,000 characters in
    # a few milliseconds); a millisecond's deadline still shows the work is in the workers.
    with tight_deadline(service, 0.001):
        answer = client.put(
            "/v1/articles/tin-1",
            json={"title": "Tin", "text": hostile_text(seed_text)},
            headers={"Authorization": f"Bearer {KEY}"},
        )
    assert answer.status_code == 422, answer.text
    assert "text too complex" in answer.json()["detail"]
    assert service.isolation.replaced == 1  # type: ignore[attr-defined]
    missing = client.get("/v1/articles/tin-1", headers={"Authorization": f"Bearer {KEY}"})
    assert missing.status_code == 404  # nothing was stored


def test_the_workers_read_with_the_lexicon_editors_set_last(isolated):
    client, service = isolated
    body = {"text": "BQL dự án công bố kế hoạch."}
    before = client.post("/v1/normalize", json=body).json()["spoken_text"]
    assert "Ban quản lý" not in before
    from tts_service.text.lexicon import Lexicon

    service.set_lexicon(Lexicon.with_site({"BQL": "Ban quản lý"}))
    after = client.post("/v1/normalize", json=body).json()["spoken_text"]
    assert after == "Ban quản lý dự án công bố kế hoạch."
