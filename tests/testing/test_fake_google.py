"""The loopback fake of Google's endpoint: format, faults, counters and a clean stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import gtts.tts
import httpx
import pytest
from gtts import gTTS, gTTSError

from tts_service.audio import mp3
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.testing import BATCHEXECUTE_PATH, FakeGoogle, FaultPlan, fake_speech

FRAME_BYTES = 96  # 32 kbps × 576 samples / 24 kHz / 8: house-format frames never pad


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def gtts_to_fake(fake: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> FakeGoogle:
    """Point gTTS at the fake by replacing only the host part of its URL builder."""
    monkeypatch.setattr(
        gtts.tts, "_translate_url", lambda tld="com", path="": f"{fake.base_url}/{path}"
    )
    return fake


def post_text(client: httpx.Client, url: str, text: str) -> httpx.Response:
    body = gTTS(text, lang="vi", lang_check=False, pre_processor_funcs=[]).get_bodies()[0]
    return client.post(
        url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


# -- audio and format --------------------------------------------------------------------


def test_fake_speech_is_house_format_and_as_long_as_the_text() -> None:
    short, long = fake_speech("a"), fake_speech("a" * 100)
    assert short[:3] == b"\xff\xf3\x44"  # MPEG-2 Layer III, 32 kbps, 24 kHz
    assert len(short) % FRAME_BYTES == 0 and len(long) % FRAME_BYTES == 0
    # 0.3 s minimum; 100 characters × 55 ms = 5.5 s (plus the encoder's padding).
    assert 0.3 <= len(short) // FRAME_BYTES * 0.024 < 0.5
    assert 5.5 <= len(long) // FRAME_BYTES * 0.024 < 5.7
    assert fake_speech("b" * 100) is long  # cached per length
    for audio in (short, long):
        assert mp3.parse(audio, strict=True).is_format(HOUSE_FORMAT)
    assert mp3.duration_seconds(long) == pytest.approx(5.5, abs=0.1)


def test_gtts_itself_reads_the_fake(gtts_to_fake: FakeGoogle, seed_text: str) -> None:
    """Format compatibility: gTTS's own request, regex and base64 decoding all work."""
    paragraph = max(seed_text.split("\n"), key=len)[:400]
    tts = gTTS(paragraph, lang="vi")
    parts = list(tts.stream())
    planned = tts._tokenize(paragraph)
    assert gtts_to_fake.requests == planned
    assert parts == [fake_speech(text) for text in planned]
    # gTTS opens a new session, hence a new connection, for every part.
    assert gtts_to_fake.connections == len(planned) > 1


def test_gtts_sees_a_malformed_answer_as_no_audio(gtts_to_fake: FakeGoogle) -> None:
    gtts_to_fake.malform_next(1)
    with pytest.raises(gTTSError, match="No audio stream"):
        list(gTTS("Xin chào", lang="vi", lang_check=False).stream())


def test_truncated_answer_is_unreadable_to_gtts(gtts_to_fake: FakeGoogle) -> None:
    gtts_to_fake.truncate_next(1)
    with pytest.raises(gTTSError):
        list(gTTS("Xin chào", lang="vi", lang_check=False).stream())


def test_answer_looks_like_googles(fake: FakeGoogle) -> None:
    with httpx.Client() as client:
        response = post_text(client, fake.url, "Xin chào")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    lines = response.text.split("\n")
    assert lines[0] == ")]}'"
    assert lines[3].startswith('[["wrb.fr","jQ1olc","[\\"//NE')
    assert fake.received[0].text == "Xin chào"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", BATCHEXECUTE_PATH, "f.req=not-json", 400),
        ("POST", BATCHEXECUTE_PATH, "other=1", 400),
        ("POST", "/translate_tts", "f.req=%5B%5D", 404),
        ("GET", BATCHEXECUTE_PATH, "", 405),
    ],
)
def test_requests_google_would_refuse(
    fake: FakeGoogle, method: str, path: str, body: str, status: int
) -> None:
    with httpx.Client() as client:
        response = client.request(method, fake.base_url + path, content=body)
    assert response.status_code == status
    assert fake.requests == []


# -- faults ------------------------------------------------------------------------------


def test_scripted_faults_come_in_order(fake: FakeGoogle) -> None:
    fake.fail_next(1, status=429, retry_after=2)
    fake.fail_next(1, status=503)
    with httpx.Client() as client:
        first, second, third = (post_text(client, fake.url, "Ba") for _ in range(3))
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert second.status_code == 503 and "retry-after" not in second.headers
    assert third.status_code == 200
    assert [r.fault for r in fake.received] == ["status", "status", None]


def test_fault_plan_is_repeatable_for_a_seed() -> None:
    plan = FaultPlan(rate_429=0.2, rate_5xx=0.2, rate_truncated=0.2, rate_malformed=0.2, seed=7)
    runs = []
    for _ in range(2):
        with FakeGoogle(faults=plan) as fake, httpx.Client() as client:
            for _ in range(20):
                post_text(client, fake.url, "Lặp lại")
            runs.append([r.fault for r in fake.received])
    assert runs[0] == runs[1]
    assert {"status", "truncated", "malformed", None} <= set(runs[0])


def test_fault_plan_rates_must_fit_in_one() -> None:
    with pytest.raises(ValueError):
        FaultPlan(rate_429=0.6, rate_5xx=0.6)


def test_hang_holds_until_released(fake: FakeGoogle) -> None:
    fake.hang_next(1)
    outcome: list[BaseException] = []

    def call() -> None:
        with httpx.Client(timeout=10) as client:
            try:
                post_text(client, fake.url, "Chờ")
            except httpx.HTTPError as exc:
                outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert fake.wait_for_requests(1)
    assert fake.in_flight == 1
    fake.release_hangs()
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)
    assert fake.received[0].answered_at is None
    # Later requests are answered normally, and new hangs still hold.
    with httpx.Client() as client:
        assert post_text(client, fake.url, "Tiếp").status_code == 200


def test_stop_releases_a_request_held_forever() -> None:
    fake = FakeGoogle().start()
    fake.hang_next(1)
    outcome: list[BaseException] = []

    def call() -> None:
        # No timeout at all, like gTTS: only the fake's stop can end this request.
        with httpx.Client(timeout=None) as client:
            try:
                post_text(client, fake.url, "Mãi mãi")
            except httpx.HTTPError as exc:
                outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert fake.wait_for_requests(1)
    fake.stop()
    worker.join(5)
    assert not worker.is_alive() and outcome


def test_latency_delays_each_answer(fake: FakeGoogle) -> None:
    fake.latency = 0.1
    with httpx.Client() as client:
        post_text(client, fake.url, "Chậm")
    [received] = fake.received
    assert received.answered_at is not None
    assert received.answered_at - received.received_at >= 0.1


# -- counters and lifecycle --------------------------------------------------------------


def test_connections_count_tcp_connections_not_requests(fake: FakeGoogle) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            post_text(client, fake.url, "Một kết nối")
    assert fake.connections == 1
    for _ in range(2):
        with httpx.Client() as client:
            post_text(client, fake.url, "Kết nối mới")
    assert fake.connections == 3
    assert len({r.connection for r in fake.received}) == 3
    fake.reset()
    # (max_in_flight restarts from the requests still being handled, so it is not asserted:
    # the last answer's thread may not have finished yet.)
    assert (fake.requests, fake.connections) == ([], 0)


def test_max_in_flight_sees_parallel_requests() -> None:
    # Held, not slowed: four requests are surely in flight together however busy the
    # machine is (a latency of 0.2 s once let a late thread miss the others).
    with FakeGoogle() as fake, ThreadPoolExecutor(4) as pool:

        def call(text: str) -> str:
            with httpx.Client(timeout=10) as client:
                try:
                    return str(post_text(client, fake.url, text).status_code)
                except httpx.HTTPError as exc:
                    return type(exc).__name__

        fake.hang_next(4)
        calls = [pool.submit(call, text) for text in ["một", "hai", "ba", "bốn"]]
        assert fake.wait_for_requests(4)
        assert fake.in_flight == 4
        fake.release_hangs()
        assert all(call.result(timeout=10) != "200" for call in calls)
    assert fake.max_in_flight == 4
    assert fake.in_flight == 0


def test_stop_leaves_no_threads_or_listening_socket() -> None:
    before = set(threading.enumerate())
    fake = FakeGoogle().start()
    url = fake.url
    # Keep a connection open (keep-alive) and one request hung when stopping.
    client = httpx.Client(timeout=None)
    post_text(client, url, "Mở")
    fake.hang_next(1)
    outcome: list[BaseException] = []

    def call() -> None:
        with httpx.Client(timeout=None) as other:
            try:
                post_text(other, url, "Treo")
            except httpx.HTTPError as exc:
                outcome.append(exc)

    held = threading.Thread(target=call)
    held.start()
    assert fake.wait_for_requests(2)
    fake.stop()
    fake.stop()  # idempotent
    held.join(5)
    client.close()
    assert outcome
    assert set(threading.enumerate()) <= before
    with httpx.Client() as other, pytest.raises(httpx.ConnectError):
        other.post(url, content=b"")
    with pytest.raises(RuntimeError):
        _ = fake.base_url


def test_start_twice_is_an_error(fake: FakeGoogle) -> None:
    with pytest.raises(RuntimeError):
        fake.start()
