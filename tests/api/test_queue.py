"""Articles waiting for the engines: queue positions, turns, and streams that follow them.

Queued is not failed: a listener whose article waits behind others is told its place and
gets the stream when it starts, never a 503 that says the engines failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from tests.helpers import decode_seconds, text_tone, tone_mp3
from tts_service.testing import FakeEngine

BOUND_S = 30.0
# Each sentence is longer than half the engine's 100 characters: one chunk each.
SENTENCE = "Bản tin {name} số {n}: các tuyến xe buýt ở thành phố đổi lộ trình để sửa đường."


def article(name: str, sentences: int) -> str:
    return " ".join(SENTENCE.format(name=name, n=n) for n in range(1, sentences + 1))


def eventually(check: Callable[[], bool], what: str) -> None:
    """Poll the service's own state (it offers nothing to wait on) for up to BOUND_S."""
    pause = threading.Event()
    for _ in range(int(BOUND_S / 0.01)):
        if check():
            return
        pause.wait(0.01)
    raise AssertionError(f"never: {what}")


class Gate:
    """Fake speech that lets the first ``free`` calls through and holds the rest."""

    def __init__(self, free: int = 0, seconds: float | None = None) -> None:
        self.free = free
        self.seconds = seconds
        self.opened = threading.Event()
        self._lock = threading.Lock()
        self._calls = 0

    def __call__(self, text: str) -> bytes:
        with self._lock:
            self._calls += 1
            held = self._calls > self.free
        if held:
            assert self.opened.wait(BOUND_S), "the test never opened the gate"
        return tone_mp3(self.seconds) if self.seconds else text_tone(text)


@pytest.fixture
def gate():
    gate = Gate()
    yield gate
    gate.opened.set()


def test_a_queued_listener_gets_its_place_then_the_stream_not_an_error(serve, make_service, gate):
    engine = FakeEngine(gate, name="fake", concurrency=1)
    # A stream timeout far shorter than the wait in the queue below.
    service = make_service(engine, stream_timeout_s=0.05, client_synth_per_minute=0)
    client = serve(service)

    def queued() -> int:
        return service.chunks_queued()[("fake", "listener")]

    first = client.post("/v1/read", json={"text": article("A", 6)})
    eventually(lambda: len(engine.calls) == 1 and queued() == 1, "A's first two chunks")
    second = client.post("/v1/read", json={"text": article("B", 3)})
    eventually(lambda: queued() == 3, "B's chunks queued")
    third = client.post("/v1/read", json={"text": article("C", 1)})
    eventually(lambda: queued() == 4, "C's chunk queued")
    answers = [first, second, third]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json()["queue_position"] for a in answers] == [1, 2, 3]
    status = client.get(f"/v1/read/{third.json()['id']}")
    assert status.status_code == 202 and status.json()["queue_position"] == 3

    heard: dict[str, httpx.Response] = {}

    def listen() -> None:
        with httpx.Client(base_url=client.base_url, timeout=BOUND_S) as own:
            heard["C"] = own.get(third.json()["audio_url"])

    listener = threading.Thread(target=listen)
    listener.start()
    job = service.job(third.json()["id"])
    eventually(lambda: job.listening == 1, "the listener waiting for C")
    # Outlast the stream timeout several times over while C is still queued.
    threading.Event().wait(0.3)
    gate.opened.set()
    listener.join(BOUND_S)

    assert heard["C"].status_code == 200, heard["C"].text
    assert job.wait(BOUND_S)
    stored = service.stored(third.json()["id"])
    assert heard["C"].content == service.cache.read_mp3(stored)
    # Articles took turns: B and C did not wait for all of A's chunks (as read aloud).
    firsts = [text.split(":")[0] for text in engine.calls[:4]]
    assert firsts == [
        "Bản tin A số một",
        "Bản tin A số hai",
        "Bản tin B số một",
        "Bản tin C số một",
    ]
    done = client.get(f"/v1/read/{first.json()['id']}")
    assert client.get(first.json()["audio_url"]).status_code == 200
    assert done.json()["queue_position"] is None


def test_every_listener_gets_the_whole_article_however_it_joins_or_reads(serve, make_service):
    gate = Gate(free=1, seconds=6.0)  # 24 KB a chunk: the article outgrows socket buffers
    engine = FakeEngine(gate, name="fake", concurrency=2)
    service = make_service(engine, client_synth_per_minute=0)
    client = serve(service)
    answer = client.post("/v1/read", json={"text": article("D", 40)})
    assert answer.status_code == 202, answer.text
    url = answer.json()["audio_url"]
    job = service.job(answer.json()["id"])
    heard: dict[str, bytes] = {}

    def from_the_start() -> None:
        with httpx.Client(base_url=client.base_url, timeout=BOUND_S) as own:
            heard["start"] = own.get(url).content

    def stalling() -> None:
        # Takes one block, stops reading until the article is done, then takes the rest.
        with (
            httpx.Client(base_url=client.base_url, timeout=BOUND_S) as own,
            own.stream("GET", url) as response,
        ):
            blocks = response.iter_raw(1024)
            parts = [next(blocks)]
            assert job.wait(BOUND_S)
            parts.extend(blocks)
            heard["stalled"] = b"".join(parts)

    early = threading.Thread(target=from_the_start)
    early.start()
    eventually(lambda: len(job.pieces_from(0)[0]) == 1, "the first chunk")
    slow = threading.Thread(target=stalling)
    slow.start()
    midway = threading.Thread(target=lambda: heard.update(midway=client.get(url).content))
    midway.start()
    eventually(lambda: job.listening == 3, "three listeners following")
    gate.opened.set()
    for thread in (early, slow, midway):
        thread.join(BOUND_S)

    stored = service.stored(answer.json()["id"])
    data = service.cache.read_mp3(stored)
    assert len(data) > 40 * 20_000
    for name in ("start", "midway", "stalled"):
        assert heard[name] == data, name
    assert abs(decode_seconds(heard["stalled"]) - float(stored.meta["duration_s"])) < 0.1
