from __future__ import annotations

import json
import threading

import pytest

from tests.helpers import assert_heard_whole, text_tone
from tts_service.errors import SynthesisUnavailable
from tts_service.settings import Settings
from tts_service.testing import FakeEngine

TEXT = (
    "Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, Cụm thi đua tổ chức hội nghị.\n"
    "Hội nghị đã thảo luận đánh giá kết quả đạt được và những hạn chế tồn tại."
)


def read_all(client, body):
    """POST /v1/read, then fetch the audio (streamed or static) and the timings."""
    answer = client.post("/v1/read", json=body)
    assert answer.status_code == 202, answer.text
    info = answer.json()
    audio = client.get(info["audio_url"])
    assert audio.status_code == 200, audio.text
    assert audio.headers["content-type"] == "audio/mpeg"
    vtt = client.get(info["vtt_url"])
    assert vtt.status_code == 200
    return info, audio, vtt


@pytest.fixture
def fake_service(make_service):
    return make_service(FakeEngine(text_tone, name="fake"))


def test_read_stream_then_cached_static_file(serve, fake_service):
    client = serve(fake_service)
    info, audio, vtt = read_all(client, {"text": TEXT, "title": "Hội nghị sơ kết"})
    assert info["engine"] == "fake" and info["chars"] == 201  # the spoken text
    seconds = assert_heard_whole(client, info, audio.content)
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT") and vtt.text.count(" --> ") == 2

    again = client.post("/v1/read", json={"text": TEXT, "title": "Hội nghị sơ kết"})
    assert again.status_code == 200
    body = again.json()
    assert body["status"] == "ready" and body["id"] == info["id"]
    assert body["duration_s"] == pytest.approx(seconds, abs=0.0005)

    static = client.get(body["audio_url"])
    assert static.content == audio.content  # what was streamed is what was stored
    assert static.headers["accept-ranges"] == "bytes"
    assert "immutable" in static.headers["cache-control"]
    etag = static.headers["etag"]
    assert client.get(body["audio_url"], headers={"If-None-Match": etag}).status_code == 304


def test_range_requests_are_byte_exact(serve, fake_service):
    client = serve(fake_service)
    info, audio, _ = read_all(client, {"text": TEXT})
    full = client.get(info["audio_url"]).content
    part = client.get(info["audio_url"], headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.content == full[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(full)}"
    tail = client.get(info["audio_url"], headers={"Range": "bytes=-500"})
    assert tail.content == full[-500:]
    beyond = client.get(info["audio_url"], headers={"Range": f"bytes={len(full) + 10}-"})
    assert beyond.status_code == 416


def test_audio_starts_before_the_article_is_finished(serve, make_service):
    gate = threading.Event()
    calls = []

    def gated(text):
        calls.append(text)
        if len(calls) > 1:
            assert gate.wait(30)
        return text_tone(text)

    service = make_service(FakeEngine(gated, name="fake"))
    client = serve(service)
    info = client.post("/v1/read", json={"text": TEXT}).json()
    assert info["status"] == "pending"
    with client.stream("GET", info["audio_url"]) as stream:
        assert stream.status_code == 200
        chunks = stream.iter_bytes()
        first = next(chunks)
        assert first  # the first sentence arrived while the second is still blocked
        assert not gate.is_set()
        gate.set()
        rest = b"".join(chunks)
    assert_heard_whole(client, info, first + rest)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "   \n "}, 422),
        ({"text": "x" * 2001}, 413),
        ({}, 422),
        ({"text": "a", "html": "<p>b</p>"}, 422),
        ({"text": "xin chào", "engine": "nope"}, 422),
        ({"text": "xin chào", "voice": "en-US"}, 422),
        ({"text": 5}, 422),
    ],
)
def test_bad_requests_get_clear_client_errors(serve, make_service, body, status):
    client = serve(make_service(FakeEngine(text_tone, name="fake"), max_text_chars=2000))
    answer = client.post("/v1/read", json=body)
    assert answer.status_code == status
    assert isinstance(answer.json()["detail"], str) and answer.json()["detail"]


def test_malformed_json_is_422(serve, fake_service):
    client = serve(fake_service)
    answer = client.post(
        "/v1/read", content=b'{"text": "abc', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert "JSON" in answer.json()["detail"]


@pytest.mark.parametrize(
    "text",
    [
        "Xin chào 👋🇻🇳 các bạn!",
        "Hello world, đây là tiếng Việt mixed with English.",
        "Điều\x00 khiển\x07 ký tự\x1b lạ.",
        "a" * 5000,
        "Ký tự \ud800 lẻ.",
        "<b>HTML</b> &amp; ký hiệu ~ # @ § ¶",
    ],
)
def test_odd_input_gives_whole_audio(serve, fake_service, text):
    client = serve(fake_service)
    # json.dumps escapes lone surrogates as "\\ud800", as a browser's JSON.stringify does.
    body = json.dumps({"text": text}).encode("ascii")
    answer = client.post("/v1/read", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 202, answer.text
    audio = client.get(answer.json()["audio_url"])
    assert audio.status_code == 200
    assert_heard_whole(client, answer.json(), audio.content)


def test_all_engines_failing_is_503_with_retry_after(serve, make_service):
    def down(_text):
        raise SynthesisUnavailable("unreachable")

    client = serve(make_service(FakeEngine(down, name="a"), FakeEngine(down, name="b")))
    info = client.post("/v1/read", json={"text": TEXT}).json()
    audio = client.get(info["audio_url"])
    assert audio.status_code == 503 and int(audio.headers["retry-after"]) > 0
    status = client.get(f"/v1/read/{info['id']}")
    assert status.status_code == 503
    again = client.post("/v1/read", json={"text": TEXT})
    assert again.status_code == 503


def test_unknown_and_malformed_ids_are_404(serve, fake_service):
    client = serve(fake_service)
    assert client.get("/v1/audio/" + "0" * 40 + ".mp3").status_code == 404
    assert client.get("/v1/audio/..%2F..%2Fetc%2Fpasswd.mp3").status_code == 404
    assert client.get("/v1/read/xyz").status_code == 404


def test_health_and_readiness(serve, fake_service):
    client = serve(fake_service)
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["cache_writable"] is True


def test_cors_for_configured_portal_origins(serve, make_service, tmp_path):
    service = make_service(FakeEngine(text_tone, name="fake"))
    settings = Settings(cache_dir=tmp_path / "c", cors_origins=("https://langson.gov.vn",))
    client = serve(service, settings)
    answer = client.options(
        "/v1/read",
        headers={"Origin": "https://langson.gov.vn", "Access-Control-Request-Method": "POST"},
    )
    assert answer.headers["access-control-allow-origin"] == "https://langson.gov.vn"
    other = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
