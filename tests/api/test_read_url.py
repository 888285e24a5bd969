"""Reading a portal page by its URL: extraction, conditional re-reads, and refusals."""

from __future__ import annotations

import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import assert_heard_whole, forbidden_but_loopback, text_tone
from tts_service.fetch import fetch_page
from tts_service.testing import FakeEngine
from tts_service.text.lexicon import Lexicon

PAGE = (Path(__file__).parents[1] / "fixtures" / "pages" / "langson-sokhdt.html").read_bytes()
TITLE = "Cụm thi đua các cơ quan tham mưu tổng hợp tổ chức Hội nghị sơ kết công tác thi đua"


class Portal:
    """A portal on loopback serving one article page, with ETag support."""

    def __init__(self):
        self.requests: list[dict[str, str]] = []
        self.closing = threading.Event()
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                portal.requests.append(dict(self.headers))
                if self.path.startswith("/cham/"):
                    # A page that never comes: held until the portal closes.
                    portal.closing.wait(30)
                    return
                if self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://sokhdt.langson.gov.vn:{self.server.server_address[1]}/tin-tuc/hoi-nghi"

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def portal():
    site = Portal()
    yield site
    site.close()


def loopback_resolver(host, port):  # noqa: ARG001
    return ["127.0.0.1"]


@pytest.fixture
def url_service(make_service):
    engine = FakeEngine(text_tone, name="fake")
    service = make_service(
        engine,
        fetch_allowed_hosts=("langson.gov.vn",),
        fetcher=partial(fetch_page, resolver=loopback_resolver, forbidden=forbidden_but_loopback),
    )
    return service, engine


def test_reads_the_article_of_an_allowed_page(serve, url_service, portal):
    service, engine = url_service
    client = serve(service)
    answer = client.post("/v1/read", json={"url": portal.url})
    assert answer.status_code == 202, answer.text
    info = answer.json()
    assert_heard_whole(client, info, client.get(info["audio_url"]).content)
    vtt = client.get(info["vtt_url"]).text
    assert vtt.split("\n\n")[1].split("\n")[2].startswith(TITLE)
    spoken = " ".join(engine.calls)
    assert "In trang" not in spoken and "Xuất" not in spoken

    calls = len(engine.calls)
    again = client.post("/v1/read", json={"url": portal.url})
    assert again.status_code == 200 and again.json()["id"] == info["id"]
    assert portal.requests[-1].get("If-None-Match") == '"v1"'  # a conditional re-read
    assert len(engine.calls) == calls

    link = client.get("/v1/read", params={"url": portal.url}, follow_redirects=False)
    assert link.status_code == 303 and link.headers["location"] == info["audio_url"]


def test_preview_shows_what_was_extracted(serve, url_service, portal):
    client = serve(url_service[0])
    body = client.post("/v1/normalize", json={"url": portal.url}).json()
    assert body["article"]["title"].startswith(TITLE)
    assert body["article"]["byline"] == "Vy Quản, Sở Kế hoạch và Đầu tư"
    assert "Đọc nội dung" not in body["spoken_text"]


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/tin-tuc",
        "http://127.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://langson.gov.vn@127.0.0.1/",
        "file:///etc/passwd",
        "gopher://langson.gov.vn/",
    ],
)
def test_forbidden_targets_are_refused_with_403(serve, make_service, url):
    service = make_service(
        FakeEngine(text_tone, name="fake"), fetch_allowed_hosts=("langson.gov.vn",)
    )
    client = serve(service)
    answer = client.post("/v1/read", json={"url": url})
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"]


def test_allowed_name_resolving_to_loopback_is_refused(serve, make_service, portal):
    # The real resolver is bypassed, but loopback stays forbidden to the default check.
    service = make_service(
        FakeEngine(text_tone, name="fake"),
        fetch_allowed_hosts=("langson.gov.vn",),
        fetcher=partial(fetch_page, resolver=loopback_resolver),
    )
    client = serve(service)
    assert client.post("/v1/read", json={"url": portal.url}).status_code == 403
    assert portal.requests == []


def test_url_reading_is_off_until_hosts_are_allowed(serve, make_service):
    client = serve(make_service(FakeEngine(text_tone, name="fake")))
    answer = client.post("/v1/read", json={"url": "https://langson.gov.vn/a"})
    assert answer.status_code == 403
    assert "TTS_FETCH_ALLOWED_HOSTS" in answer.json()["detail"]


def test_an_unreachable_page_is_a_bad_gateway(serve, url_service):
    client = serve(url_service[0])
    # Nothing listens on port 9 of the loopback: the connection is refused at once.
    answer = client.post("/v1/read", json={"url": "http://langson.gov.vn:9/khong-co"})
    assert answer.status_code == 502, answer.text
    assert answer.json()["detail"].startswith("Không kết nối được tới trang (connection failed)")


def test_a_page_slower_than_the_time_limit_is_a_gateway_timeout(serve, make_service, portal):
    service = make_service(
        FakeEngine(text_tone, name="fake"),
        fetch_allowed_hosts=("langson.gov.vn",),
        fetch_timeout_s=0.5,
        fetcher=partial(fetch_page, resolver=loopback_resolver, forbidden=forbidden_but_loopback),
    )
    client = serve(service)
    answer = client.post("/v1/read", json={"url": portal.url.replace("/tin-tuc/", "/cham/")})
    assert answer.status_code == 504, answer.text
    assert answer.json()["detail"] == "Trang phản hồi quá chậm (the page took too long)."


@pytest.fixture
def two_voice_service(make_service):
    """A service reading with "fake" first and "offline" as its fallback voice."""
    primary = FakeEngine(text_tone, name="fake")
    offline = FakeEngine(text_tone, name="offline")
    service = make_service(
        primary,
        offline,
        fetch_allowed_hosts=("langson.gov.vn",),
        fetcher=partial(fetch_page, resolver=loopback_resolver, forbidden=forbidden_but_loopback),
    )
    return service, primary, offline


def test_one_request_for_another_engine_does_not_change_what_a_page_reads_with(
    serve, two_voice_service, portal
):
    service, primary, offline = two_voice_service
    client = serve(service)
    chosen = client.post("/v1/read", json={"url": portal.url, "engine": "offline"})
    assert chosen.status_code == 202, chosen.text
    assert chosen.json()["engine"] == "offline"
    assert client.get(chosen.json()["audio_url"]).status_code == 200
    assert primary.calls == []

    # The page answers 304 from now on; the default reading is still the primary voice's.
    default = client.post("/v1/read", json={"url": portal.url})
    assert default.status_code == 202, default.text
    assert default.json()["engine"] == "fake"
    assert default.json()["id"] != chosen.json()["id"]
    assert client.get(default.json()["audio_url"]).headers["x-tts-engine"] == "fake"

    link = client.get("/v1/read", params={"url": portal.url}, follow_redirects=False)
    assert link.status_code == 303 and link.headers["location"] == default.json()["audio_url"]
    again = client.post("/v1/read", json={"url": portal.url, "engine": "offline"})
    assert again.status_code == 200 and again.json()["id"] == chosen.json()["id"]
    # Every re-read after the first was conditional, and each way of reading was read once.
    assert [r.get("If-None-Match") for r in portal.requests] == [None, None, '"v1"', '"v1"']


def test_a_lexicon_change_rereads_an_unchanged_page(serve, url_service, portal):
    service, engine = url_service
    client = serve(service)
    before = client.post("/v1/read", json={"url": portal.url})
    assert client.get(before.json()["audio_url"]).status_code == 200
    assert not any("Nhóm thi đua" in text for text in engine.calls)

    service.set_lexicon(Lexicon.with_site({"Cụm": "Nhóm"}))
    after = client.post("/v1/read", json={"url": portal.url})
    assert after.status_code == 202, after.text
    assert after.json()["id"] != before.json()["id"]
    assert client.get(after.json()["audio_url"]).status_code == 200
    assert any("Nhóm thi đua" in text for text in engine.calls)
    assert portal.requests[-1].get("If-None-Match") is None  # read afresh, not 304
