"""The read endpoint's abuse limits over real HTTP: body size, client budget, job cap, origins."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import text_tone
from tts_service.api.limits import ClientBuckets
from tts_service.testing import FakeEngine

ARTICLES = [
    "Sáng nay, Ủy ban nhân dân tỉnh Lạng Sơn họp bàn kế hoạch năm 2024.",
    "Chiều qua, Sở Giáo dục công bố lịch thi tuyển sinh lớp 10.",
    "Tối nay, thành phố tổ chức lễ hội đường phố chào mừng năm mới.",
]
# A token a century: the bucket never refills while a test runs, so counts are exact.
NEVER = 1e-5


def raw_request(base_url: str, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` and ``body`` as they are on a plain socket; the status and raw answer."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode("ascii") + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


@pytest.fixture
def engine():
    return FakeEngine(text_tone, name="fake")


# -- body size -------------------------------------------------------------------------


def test_declared_oversized_body_is_refused_without_reading_it(serve, make_service, engine):
    client = serve(make_service(engine, max_body_bytes=2048))
    # Claims a gigabyte and sends one byte: an answer at all proves nothing waited for it.
    head = (
        "POST /v1/read HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000000\r\nConnection: close\r\n"
    )
    status, answer = raw_request(str(client.base_url), head, b"{")
    assert status == 413
    assert b"2048" in answer and b"application/json" in answer
    assert engine.calls == []


def test_real_oversized_body_is_refused(serve, make_service, engine):
    client = serve(make_service(engine, max_body_bytes=2048))
    answer = client.post("/v1/read", json={"text": "Xin chào. " * 400})
    assert answer.status_code == 413
    assert "2048" in answer.json()["detail"]


def test_chunked_oversized_body_is_refused(serve, make_service, engine):
    client = serve(make_service(engine, max_body_bytes=2048))

    def chunks():
        for _ in range(8):
            yield b"x" * 512

    answer = client.post("/v1/read", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert "request body is larger" in answer.json()["detail"]
    assert engine.calls == []


def test_chunked_body_within_the_limit_is_read(serve, make_service, engine):
    client = serve(make_service(engine, max_body_bytes=4096))
    data = httpx.Request("POST", "/", json={"text": ARTICLES[0]}).read()

    def chunks():
        yield data[:10]
        yield data[10:]

    answer = client.post("/v1/read", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    assert client.get(answer.json()["audio_url"]).status_code == 200


# -- per-client synthesis budget -------------------------------------------------------


def test_only_new_syntheses_spend_the_clients_budget(serve, make_service, engine):
    service = make_service(engine, client_synth_burst=2, client_synth_per_minute=NEVER)
    client = serve(service)
    first = client.post("/v1/read", json={"text": ARTICLES[0]})
    assert first.status_code == 202
    audio_url = first.json()["audio_url"]
    assert client.get(audio_url).status_code == 200  # streams until the article is stored
    assert client.post("/v1/read", json={"text": ARTICLES[1]}).status_code == 202

    refused = client.post("/v1/read", json={"text": ARTICLES[2]})
    assert refused.status_code == 429
    # One token at 0.00001 a minute: 6,000,000 s (less the refill of a few ms, rounded up).
    assert refused.headers["retry-after"] == "6000000"
    assert "too many new articles" in refused.json()["detail"]

    # Cached audio, its status, audio and timings cost nothing.
    again = client.post("/v1/read", json={"text": ARTICLES[0]})
    assert again.status_code == 200 and again.json()["status"] == "ready"
    assert client.get(audio_url).status_code == 200
    assert client.get(audio_url.removesuffix(".mp3") + ".vtt").status_code == 200
    assert client.get(f"/v1/read/{first.json()['id']}").status_code == 200

    # Another address has its own bucket (every 127.x address is loopback on Linux).
    other = httpx.Client(
        base_url=client.base_url, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    with other:
        assert other.post("/v1/read", json={"text": ARTICLES[2]}).status_code == 202


def test_joining_a_running_job_is_free(serve, make_service):
    gate = threading.Event()

    def blocked(text):
        assert gate.wait(30)
        return text_tone(text)

    service = make_service(
        FakeEngine(blocked, name="fake"), client_synth_burst=1, client_synth_per_minute=NEVER
    )
    client = serve(service)
    try:
        first = client.post("/v1/read", json={"text": ARTICLES[0]})
        assert first.status_code == 202
        joined = client.post("/v1/read", json={"text": ARTICLES[0]})
        assert joined.status_code == 202 and joined.json()["id"] == first.json()["id"]
        assert client.post("/v1/read", json={"text": ARTICLES[1]}).status_code == 429
    finally:
        gate.set()
    assert client.get(first.json()["audio_url"]).status_code == 200


def test_client_buckets_refill_and_stay_bounded():
    now = [0.0]
    buckets = ClientBuckets(60, 2, max_clients=3, clock=lambda: now[0])
    assert buckets.try_take("a") is None and buckets.try_take("a") is None
    assert buckets.try_take("a") == pytest.approx(1.0)  # one token a second
    now[0] = 1.0
    assert buckets.try_take("a") is None
    for client in "bcd":
        buckets.try_take(client)
    assert len(buckets) == 3  # "a", the least recently seen, was forgotten
    assert buckets.try_take("a") is None


# -- concurrent jobs -------------------------------------------------------------------


def test_new_syntheses_beyond_the_job_cap_get_503(serve, make_service):
    gate = threading.Event()

    def blocked(text):
        assert gate.wait(30)
        return text_tone(text)

    service = make_service(FakeEngine(blocked, name="fake"), max_concurrent_jobs=1)
    client = serve(service)
    try:
        first = client.post("/v1/read", json={"text": ARTICLES[0]})
        assert first.status_code == 202
        assert service.pending_jobs == 1
        busy = client.post("/v1/read", json={"text": ARTICLES[1]})
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "10"  # BUSY_RETRY_AFTER_S
        assert "try again soon" in busy.json()["detail"]
        # Listeners of the running article are still answered.
        assert client.post("/v1/read", json={"text": ARTICLES[0]}).status_code == 202
    finally:
        gate.set()
    assert client.get(first.json()["audio_url"]).status_code == 200
    assert service.pending_jobs == 0
    assert client.post("/v1/read", json={"text": ARTICLES[1]}).status_code in (200, 202)


# -- origins ---------------------------------------------------------------------------


def test_origin_allow_list(serve, make_service, engine):
    service = make_service(engine, read_origins=("https://baomoi.example",))
    client = serve(service)
    body = {"text": ARTICLES[0]}

    allowed = client.post("/v1/read", json=body, headers={"Origin": "https://baomoi.example"})
    assert allowed.status_code == 202, allowed.text
    assert client.get(allowed.json()["audio_url"]).status_code == 200  # now stored
    by_referer = client.post(
        "/v1/read", json=body, headers={"Referer": "https://BAOMOI.example/thoi-su/bai-1.html"}
    )
    assert by_referer.status_code == 200

    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {}):
        refused = client.post("/v1/read", json=body, headers=headers)
        assert refused.status_code == 403, headers
        assert "TTS_READ_ORIGINS" in refused.json()["detail"]
    link = client.get("/v1/read", params={"url": "https://baomoi.example/a.html"})
    assert link.status_code == 403 and "TTS_READ_ORIGINS" in link.json()["detail"]
    # Only the read endpoint is guarded: audio links work from anywhere.
    assert client.get(allowed.json()["audio_url"]).status_code == 200
