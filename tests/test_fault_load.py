"""Concurrent listeners while the loopback Google misbehaves: complete audio or a clean 503.

Google is faked with seeded random faults (429s, 5xx, hangs, truncated and malformed
answers); eSpeak NG is the real fallback. Every listener must end with audio that decodes
to the end and matches its timings, or with a 503 that says when to come back — never a
500 and never a 200 cut short. Whatever ended up in the cache must be complete too.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import httpx
import pytest

from tests.helpers import assert_whole_audio, decode_seconds, text_tone
from tts_service.engines.registry import build_engines
from tts_service.errors import SynthesisUnavailable
from tts_service.settings import Settings
from tts_service.testing import FakeEngine
from tts_service.testing.fake_google import FakeGoogle, FaultPlan

FAULTS = FaultPlan(
    rate_429=0.3,
    rate_5xx=0.1,
    rate_timeout=0.05,
    rate_truncated=0.05,
    rate_malformed=0.05,
    seed=20210709,
)
READERS = 12
# Short articles (two chunks or so each); every one is asked for twice, by different readers.
ARTICLES = tuple(
    f"Tin số {n}: Sở Nội vụ tỉnh Lạng Sơn họp sơ kết thi đua lần thứ {n}.\n"
    f"Hội nghị thảo luận {n} nội dung và thống nhất kế hoạch quý tới."
    for n in range(1, 21)
)
REQUESTS = ARTICLES + ARTICLES[::-1]
# Each HTTP wait is bounded, and so is the whole load: nothing here can hang the suite.
HTTP_TIMEOUT_S = 20.0
LOAD_TIMEOUT_S = 50.0
_CUE_END = re.compile(r"--> (\d+):(\d{2}):(\d{2})\.(\d{3})")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one listener's read ended: where it stopped, and the status it stopped on."""

    step: str
    status: int
    retry_after: str | None = None
    article_id: str = ""
    audio: bytes = b""
    vtt: str = ""


def last_cue_end(vtt: str) -> float:
    """The end of the last cue of a WebVTT file, in seconds."""
    ends = _CUE_END.findall(vtt)
    assert ends, f"no cues in {vtt[:200]!r}"
    hours, minutes, seconds, millis = (int(part) for part in ends[-1])
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def listen(base_url: str, text: str) -> Outcome:
    """POST the article, stream its audio, then fetch its timings; stop at the first refusal."""
    with httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_S) as client:
        answer = client.post("/v1/read", json={"text": text})
        if answer.status_code not in (200, 202):
            return Outcome("read", answer.status_code, answer.headers.get("retry-after"))
        info = answer.json()
        with client.stream("GET", info["audio_url"]) as audio:
            body = b"".join(audio.iter_bytes())
        if audio.status_code != 200:
            retry = audio.headers.get("retry-after")
            return Outcome("audio", audio.status_code, retry, info["id"])
        vtt = client.get(info["vtt_url"])
        if vtt.status_code != 200:
            retry = vtt.headers.get("retry-after")
            return Outcome("vtt", vtt.status_code, retry, info["id"], audio=body)
        return Outcome("done", 200, None, info["id"], audio=body, vtt=vtt.text)


@pytest.fixture
def fake_google():
    """Google with random faults; hung requests are let go before it stops."""
    with FakeGoogle(faults=FAULTS) as fake:
        try:
            yield fake
        finally:
            fake.release_hangs()


def test_listeners_get_complete_audio_or_a_clean_503_under_faults(serve, make_service, fake_google):
    settings = Settings(
        engine=("gtts", "espeak"),
        gtts_base_url=fake_google.base_url,
        gtts_timeout_s=0.5,
        gtts_retries=2,
        gtts_backoff_base_s=0.01,
        gtts_backoff_max_s=0.05,
        gtts_requests_per_minute=0,
        breaker_failures=8,
    )
    service = make_service(
        *build_engines(settings).values(),
        client_synth_per_minute=0,
        client_max_jobs=len(REQUESTS),  # every listener is on 127.0.0.1
        stream_timeout_s=HTTP_TIMEOUT_S,
    )
    base_url = str(serve(service).base_url)

    pool = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="listener")
    try:
        futures = [pool.submit(listen, base_url, text) for text in REQUESTS]
        done, not_done = wait(futures, timeout=LOAD_TIMEOUT_S)
        assert not not_done, f"{len(not_done)} listeners still waiting after {LOAD_TIMEOUT_S}s"
    finally:
        fake_google.release_hangs()
        pool.shutdown(wait=True, cancel_futures=True)

    outcomes = [future.result() for future in futures]
    # The load met every kind of fault the plan injects, or it proved nothing.
    injected = {request.fault for request in fake_google.received} - {None}
    assert injected == {"status", "hang", "truncated", "malformed"}
    for text, outcome in zip(REQUESTS, outcomes, strict=True):
        where = f"{outcome.step} of {text[:12]!r}"
        if outcome.step != "done":
            assert outcome.status == 503, f"{where}: {outcome.status}"
            assert outcome.retry_after is not None and int(outcome.retry_after) > 0, where
            if outcome.audio:
                decode_seconds(outcome.audio)  # the audio before the timings' 503 was whole
            continue
        stored = service.stored(outcome.article_id)
        assert stored is not None, where
        seconds = assert_whole_audio(outcome.audio, float(stored.meta["duration_s"]))
        # Streamed or served as a file, even when the voice changed mid-stream, the id's
        # audio is the stored article byte for byte, and its timings are the article's.
        assert outcome.audio == service.cache.read_mp3(stored), f"{where}: not the stored audio"
        assert outcome.vtt == service.cache.read_vtt(stored), where
        assert abs(last_cue_end(outcome.vtt) - seconds) <= 0.3, where
    assert any(outcome.step == "done" for outcome in outcomes)

    articles = sorted((service.cache.root / "articles").glob("*/*.json"))
    assert articles
    for meta_path in articles:
        stored = service.stored(meta_path.stem)
        assert stored is not None, meta_path.stem
        mp3 = service.cache.read_mp3(stored)
        seconds = assert_whole_audio(mp3, float(stored.meta["duration_s"]))
        assert abs(last_cue_end(service.cache.read_vtt(stored)) - seconds) <= 0.3


def _fails_on_the_second_sentence(text: str) -> bytes:
    if "Hội nghị" in text:
        raise SynthesisUnavailable("the primary voice gave up")
    return text_tone(text)


def test_timings_match_a_stream_whose_voice_changed_midway(serve, make_service):
    second_may_read = threading.Event()

    def second(text: str) -> bytes:
        # Held until the listener's stream has begun, so the mixed audio is streamed live.
        assert second_may_read.wait(HTTP_TIMEOUT_S)
        return text_tone(text + text)

    service = make_service(
        FakeEngine(_fails_on_the_second_sentence, name="first"),
        FakeEngine(second, name="second"),
    )
    with httpx.Client(base_url=serve(service).base_url, timeout=HTTP_TIMEOUT_S) as client:
        info = client.post("/v1/read", json={"text": ARTICLES[0]}).json()
        with client.stream("GET", info["audio_url"]) as audio:
            assert audio.headers["cache-control"] == "no-store"  # a live stream
            second_may_read.set()
            heard = audio.read()
        vtt = client.get(info["vtt_url"])
        # What the player loads again, once the audio is complete, to seek in it.
        again = client.get(info["audio_url"])
        seek = client.get(info["audio_url"], headers={"Range": "bytes=1000-"})
    assert audio.status_code == 200 and vtt.status_code == 200
    assert abs(last_cue_end(vtt.text) - decode_seconds(heard)) <= 0.3
    assert again.status_code == 200 and again.headers["accept-ranges"] == "bytes"
    assert again.content == heard
    assert seek.status_code == 206 and seek.content == heard[1000:]
