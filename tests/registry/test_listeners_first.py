"""A back catalogue being pre-generated never keeps a new listener waiting.

The engine holds every chunk of the catalogue article until the test lets go, so the
background threads stay busy for as long as the test likes: what a listener gets meanwhile
shows which work the service runs first. No timing is measured.
"""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.helpers import assert_heard_whole, assert_whole_audio, text_tone
from tests.registry.cms import AUTH, KEY, put, wait_job
from tts_service.testing import FakeEngine

# Each sentence is longer than half the engine's 100 characters: one chunk each.
CATALOGUE = " ".join(
    f"Hồ sơ lưu trữ số {n} của Sở Nội vụ tỉnh Lạng Sơn đã được số hóa và đưa lên cổng."
    for n in range(1, 11)
)
LISTENER = (
    "Chiều nay, tỉnh tổ chức hội nghị trực tuyến về chuyển đổi số với các huyện, thành phố. "
    "Người dân có thể theo dõi trực tiếp trên trang thông tin điện tử của tỉnh."
)
HELD = "lưu trữ"


class HoldingEngine(FakeEngine):
    """Four threads; holds every text containing ``HELD`` until ``release``."""

    def __init__(self) -> None:
        super().__init__(text_tone, name="fake", concurrency=4)
        self.released = threading.Event()
        self._arrived = threading.Condition()

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:
        with self._arrived:
            self.calls.append(text)
            self._arrived.notify_all()
        if HELD in text:
            assert self.released.wait(30), "the test never released the catalogue"
        return text_tone(text)

    def wait_calls(self, n: int) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.calls) >= n, timeout=10)


@pytest.fixture
def holding():
    engine = HoldingEngine()
    yield engine
    engine.released.set()


def test_a_listener_is_read_at_once_while_the_catalogue_fills_its_threads(
    serve, make_service, holding
):
    service = make_service(holding, api_keys=[{"name": "cms", "key": KEY}], workers=1)
    client = serve(service)
    queued = put(client, "luu-tru", text=CATALOGUE)
    assert queued.status_code == 202, queued.text
    # Three of the four engine threads take catalogue chunks; the fourth is kept.
    assert holding.wait_calls(3)

    read = client.post("/v1/read", json={"text": LISTENER})
    assert read.status_code == 202, read.text
    audio = client.get(f"/v1/audio/{read.json()['id']}.mp3")
    assert audio.status_code == 200
    assert assert_heard_whole(client, read.json(), audio.content) > 2.0

    catalogue = [text for text in holding.calls if HELD in text]
    assert len(catalogue) == 3, "a catalogue chunk took the listeners' thread"
    assert len(holding.calls) > 3 and all(HELD not in t for t in holding.calls[3:])

    # An article keeps twice the engine's four threads of chunks in flight: the five beside
    # the three held wait in their lane, and operators can see it.
    metrics = client.get("/metrics").text
    assert 'tts_chunks_queued{engine="fake",lane="background"} 5.0' in metrics
    assert 'tts_chunks_queued{engine="fake",lane="listener"} 0.0' in metrics

    holding.released.set()
    job = wait_job(client, queued.json()["job"]["id"])
    assert job["state"] == "done"
    assert job["chunks"]["total"] == 10


def test_opening_an_article_still_being_made_puts_its_chunks_first(serve, make_service, holding):
    service = make_service(holding, api_keys=[{"name": "cms", "key": KEY}], workers=1)
    client = serve(service)
    queued = put(client, "luu-tru", text=CATALOGUE)
    assert queued.status_code == 202, queued.text
    assert holding.wait_calls(3)
    heard: dict[str, httpx.Response] = {}

    def listen() -> None:
        with httpx.Client(base_url=client.base_url, timeout=60) as own:
            heard["audio"] = own.get("/v1/articles/luu-tru/audio", follow_redirects=True)

    listener = threading.Thread(target=listen, name="listener")
    listener.start()
    try:
        # Someone is listening now: the rest of the article is a listener's, and the fourth
        # thread, kept for listeners, takes its next chunk although the catalogue's three
        # are still held.
        assert holding.wait_calls(4), "the article's chunks stayed behind the catalogue"
        assert HELD in holding.calls[3]
    finally:
        holding.released.set()
        listener.join(60)
    assert heard["audio"].status_code == 200
    job = wait_job(client, queued.json()["job"]["id"])
    assert job["state"] == "done"
    stored = client.get("/v1/articles/luu-tru/audio", headers=AUTH)
    assert stored.status_code == 200
    # What the listener heard while the job ran is the article as stored, byte for byte.
    assert heard["audio"].content == stored.content
    assert_whole_audio(
        stored.content, client.get("/v1/articles/luu-tru", headers=AUTH).json()["duration_s"]
    )
