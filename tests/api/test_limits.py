"""The abuse limits over real HTTP: body size, client budgets, job cap, origins, client identity."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from tests.helpers import text_tone
from tts_service.api.limits import ClientBuckets, client_key
from tts_service.api.main import create_app
from tts_service.api.server import uvicorn_options
from tts_service.cache import AudioCache
from tts_service.fetch import FetchedPage
from tts_service.isolation import InProcess
from tts_service.lanes import Lane
from tts_service.settings import Settings
from tts_service.synthesis import SpeechService
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


def test_background_jobs_leave_the_listeners_job_cap_alone(serve, make_service):
    gate = threading.Event()

    def blocked(text):
        assert gate.wait(30)
        return text_tone(text)

    service = make_service(FakeEngine(blocked, name="fake"), max_concurrent_jobs=1)
    client = serve(service)
    chain = service.chain(None)
    plans = service.plan(service.normalize(ARTICLES[2]), title=None, chain=chain)
    try:
        background = service.start(plans, lane=Lane.BACKGROUND)
        assert background is not None and service.pending_jobs == 1
        listener = client.post("/v1/read", json={"text": ARTICLES[0]})
        assert listener.status_code == 202, listener.text
        # The listener's article is the one that fills the cap.
        assert client.post("/v1/read", json={"text": ARTICLES[1]}).status_code == 503
    finally:
        gate.set()
    assert background.wait(30)
    assert client.get(listener.json()["audio_url"]).status_code == 200


def test_one_client_gets_only_its_share_of_the_job_slots(serve, make_service):
    gate = threading.Event()

    def blocked(text):
        assert gate.wait(30)
        return text_tone(text)

    service = make_service(
        FakeEngine(blocked, name="fake"),
        client_max_jobs=2,
        client_synth_burst=3,
        client_synth_per_minute=NEVER,
    )
    client = serve(service)
    other = httpx.Client(
        base_url=client.base_url, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    extra = ARTICLES[2].replace("Tối nay", "Sáng mai")
    with other:
        try:
            started = [client.post("/v1/read", json={"text": text}) for text in ARTICLES[:2]]
            assert [answer.status_code for answer in started] == [202, 202]
            refused = client.post("/v1/read", json={"text": ARTICLES[2]})
            assert refused.status_code == 429
            assert "has 2 articles being read" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) >= 1
            # Joining one's own running article is free; another client has its own share.
            assert client.post("/v1/read", json={"text": ARTICLES[0]}).status_code == 202
            assert other.post("/v1/read", json={"text": extra}).status_code == 202
        finally:
            gate.set()
        for answer in started:
            assert client.get(answer.json()["audio_url"]).status_code == 200
    # The refusal spent no token: the third of the burst still starts an article.
    assert client.post("/v1/read", json={"text": ARTICLES[2]}).status_code == 202
    fourth = client.post("/v1/read", json={"text": "Trưa nay, chợ phiên mở cửa đón khách."})
    assert "too many new articles" in fourth.json()["detail"]


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


# -- charged before the work -------------------------------------------------------------


class CountingIsolation(InProcess):
    """Runs text work here, and records which steps ran (to show what a refusal cost)."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    def call(self, fn, /, *args):
        self.steps.append(fn.__name__)
        return super().call(fn, *args)


def counted_service(tmp_path, engine, **overrides):
    settings = Settings(cache_dir=tmp_path / "cache", engine=("espeak",), **overrides)
    cache = AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes)
    isolation = CountingIsolation()
    service = SpeechService(
        settings, engines={engine.name: engine}, cache=cache, isolation=isolation
    )
    return service, isolation


def test_normalize_has_a_budget_charged_before_the_text_is_processed(serve, tmp_path, engine):
    service, isolation = counted_service(
        tmp_path, engine, client_text_burst=2, client_text_per_minute=NEVER
    )
    client = serve(service)
    try:
        for text in ARTICLES[:2]:
            assert client.post("/v1/normalize", json={"text": text}).status_code == 200
        steps = list(isolation.steps)
        refused = client.post("/v1/normalize", json={"text": ARTICLES[2]})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "too many texts to process" in refused.json()["detail"]
        assert isolation.steps == steps  # nothing was extracted or normalised for it
        # The read endpoint has a budget of its own.
        assert client.post("/v1/read", json={"text": ARTICLES[2]}).status_code in (200, 202)
    finally:
        service.close()


def test_read_is_charged_before_its_text_is_processed(serve, tmp_path, engine):
    service, isolation = counted_service(
        tmp_path, engine, client_synth_burst=1, client_synth_per_minute=NEVER
    )
    client = serve(service)
    try:
        first = client.post("/v1/read", json={"text": ARTICLES[0]})
        assert first.status_code in (200, 202)
        assert client.get(first.json()["audio_url"]).status_code == 200
        assert isolation.steps == ["extract", "normalize_text", "chunk"]

        refused = client.post("/v1/read", json={"text": ARTICLES[1]})
        assert refused.status_code == 429
        assert isolation.steps == ["extract", "normalize_text", "chunk"]
        # A repeat of a request already answered is free, and costs no processing.
        again = client.post("/v1/read", json={"text": ARTICLES[0]})
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert isolation.steps == ["extract", "normalize_text", "chunk"]
    finally:
        service.close()


def test_a_page_not_read_before_is_charged_before_it_is_fetched(serve, make_service, engine):
    fetched: list[str] = []

    def fetcher(url, **_options):
        fetched.append(url)
        html = f"<html><body><article><p>{ARTICLES[len(fetched) - 1]}</p></article></body></html>"
        return FetchedPage(url, url, 200, html, None, None, "utf-8")

    service = make_service(
        engine,
        fetch_allowed_hosts=("portal.gov.vn",),
        fetcher=fetcher,
        client_synth_burst=1,
        client_synth_per_minute=NEVER,
    )
    client = serve(service)
    assert client.post("/v1/read", json={"url": "https://portal.gov.vn/a"}).status_code in (
        200,
        202,
    )
    refused = client.post("/v1/read", json={"url": "https://portal.gov.vn/b"})
    assert refused.status_code == 429
    assert fetched == ["https://portal.gov.vn/a"]


# -- who a client is ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::/64"),
        ("evil", "unknown"),
        ("203.0.113.7, 10.0.0.1", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_clients_are_keyed_by_address_and_ipv6_by_their_64(host, key):
    assert client_key(host) == key


@contextmanager
def served_as_in_production(service):
    """The app served with exactly the options ``tts-service serve`` gives uvicorn."""
    app = create_app(service.settings, service=service)
    options = uvicorn_options(service.settings)
    for name in ("host", "port", "log_level"):
        options.pop(name)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=60) as c:
            yield c
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_forwarded_headers_are_ignored_unless_the_proxy_is_named(make_service, engine):
    service = make_service(engine, client_synth_burst=2, client_synth_per_minute=NEVER)
    with served_as_in_production(service) as client:
        answers = [
            client.post(
                "/v1/read",
                json={"text": text},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
            for i, text in enumerate(ARTICLES)
        ]
    # Three made-up addresses from one peer are one client with a budget of two.
    assert answers[0] in (200, 202) and answers[1] in (200, 202)
    assert answers[2] == 429


def test_a_named_proxy_is_believed_for_addresses_only(make_service, engine):
    service = make_service(
        engine,
        client_synth_burst=1,
        client_synth_per_minute=NEVER,
        forwarded_allow_ips=("127.0.0.1",),
    )
    texts = iter(f"Tin số {n}: Ủy ban nhân dân tỉnh họp phiên thứ {n}." for n in range(1, 20))

    def read(forwarded: str) -> int:
        return client.post(
            "/v1/read", json={"text": next(texts)}, headers={"X-Forwarded-For": forwarded}
        ).status_code

    with served_as_in_production(service) as client:
        # Two real clients behind the proxy: a budget each.
        assert read("203.0.113.7") in (200, 202)
        assert read("203.0.113.8") in (200, 202)
        assert read("203.0.113.7") == 429
        # One IPv6 subscriber's /64 is one client, whichever address it uses.
        assert read("2001:db8:1:2::1") in (200, 202)
        assert read("2001:db8:1:2::2") == 429
        # Values that are not addresses open no new budgets: they share one.
        assert read("evil-1") in (200, 202)
        assert read("evil-2") == 429
        assert read("1.2.3.4.5") == 429
