"""The default engine chain (gtts, then espeak) end to end, with Google faked on loopback."""

from __future__ import annotations

import socket

import pytest

from tests.helpers import assert_heard_whole
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.audio.mp3 import stream_format
from tts_service.engines.registry import build_engines
from tts_service.settings import Settings
from tts_service.testing.fake_google import FakeGoogle

TEXT = (
    "Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, Cụm thi đua các cơ quan tham mưu "
    "tổng hợp tỉnh Lạng Sơn tổ chức hội nghị Sơ kết công tác thi đua, khen thưởng.\n"
    "Tới dự có đồng chí Nguyễn Thu Hoài, Trưởng Ban thi đua, khen thưởng Sở Nội vụ. "
    "Hội nghị đã thảo luận đánh giá kết quả đạt được."
)


def chain_service(make_service, base_url, **overrides):
    options = {
        "engine": ("gtts", "espeak"),
        "gtts_base_url": base_url,
        "gtts_timeout_s": 2,
        "gtts_retries": 1,
        "gtts_backoff_base_s": 0.01,
        "gtts_backoff_max_s": 0.05,
        **overrides,
    }
    settings = Settings(**options)
    return make_service(*build_engines(settings).values())


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens here any more


def test_google_reads_the_article_with_concurrent_pooled_requests(serve, make_service):
    with FakeGoogle(latency=0.05) as fake:
        client = serve(chain_service(make_service, fake.base_url, gtts_concurrency=4))
        info = client.post("/v1/read", json={"text": TEXT}).json()
        assert info["engine"] == "gtts"
        audio = client.get(info["audio_url"])
        assert audio.headers["x-tts-engine"] == "gtts"
        assert_heard_whole(client, info, audio.content)
        assert stream_format(audio.content) == HOUSE_FORMAT
        assert all(len(text) <= 100 for text in fake.requests)
        assert fake.max_in_flight > 1
        assert fake.connections <= 4
        # Google's parts are concatenated as they are: the article holds their exact frames.
        assert client.post("/v1/read", json={"text": TEXT}).json()["status"] == "ready"


def test_rate_limited_google_is_retried_and_still_reads(serve, make_service):
    with FakeGoogle() as fake:
        fake.fail_next(2, status=429)
        client = serve(chain_service(make_service, fake.base_url, gtts_retries=3))
        info = client.post("/v1/read", json={"text": "Xin chào các bạn."}).json()
        audio = client.get(info["audio_url"])
        assert audio.headers["x-tts-engine"] == "gtts"
        assert_heard_whole(client, info, audio.content)


def test_unreachable_google_falls_back_to_the_offline_voice(serve, make_service):
    service = chain_service(make_service, closed_port_url())
    client = serve(service)
    info = client.post("/v1/read", json={"text": TEXT}).json()
    audio = client.get(info["audio_url"])
    assert audio.status_code == 200
    assert audio.headers["x-tts-engine"] == "espeak"
    assert_heard_whole(client, info, audio.content)
    status = client.get(f"/v1/read/{info['id']}").json()
    assert status["status"] == "ready" and status["engine"] == "espeak"
    # Not kept as if it were Google audio: stored under the offline voice's key, and served
    # under the Google id without the immutable caching a real Google article gets.
    assert service.cache.get_article(info["id"]) is None
    again = client.get(info["audio_url"])
    assert again.headers["x-tts-engine"] == "espeak"
    assert "immutable" not in again.headers["cache-control"]


@pytest.mark.parametrize("fault", ["malform_next", "truncate_next"])
def test_broken_answers_are_retried(serve, make_service, fault):
    with FakeGoogle() as fake:
        getattr(fake, fault)(1)
        client = serve(chain_service(make_service, fake.base_url, gtts_retries=2))
        info = client.post("/v1/read", json={"text": "Xin chào các bạn."}).json()
        audio = client.get(info["audio_url"])
        assert audio.headers["x-tts-engine"] == "gtts"
        assert_heard_whole(client, info, audio.content)
