"""The seed article read end to end through the HTTP API with the real offline voice."""

from __future__ import annotations

import re

import pytest

from tests.helpers import assert_heard_whole
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.audio.mp3 import duration_seconds, stream_format
from tts_service.engines.espeak import EspeakEngine


@pytest.fixture(scope="module")
def espeak():
    return EspeakEngine()


def test_seed_article_through_the_api_with_espeak(serve, make_service, espeak, seed_text):
    client = serve(make_service(espeak))
    answer = client.post("/v1/read", json={"text": seed_text, "engine": "espeak"})
    assert answer.status_code == 202
    info = answer.json()
    assert info["engine"] == "espeak"
    streamed = client.get(info["audio_url"])
    assert streamed.status_code == 200 and streamed.headers["x-tts-engine"] == "espeak"
    vtt = client.get(info["vtt_url"]).text

    seconds = assert_heard_whole(client, info, streamed.content)
    assert 120 < seconds < 900  # ~5,000 characters of speech, at whatever pace eSpeak reads
    assert stream_format(streamed.content) == HOUSE_FORMAT
    assert duration_seconds(streamed.content) == pytest.approx(seconds, abs=0.0005)

    cues = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(.+)", vtt)
    assert len(cues) > 15
    ends = [
        int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for _, _, _, _, h, m, s, ms, _ in cues
    ]
    assert ends == sorted(ends) and abs(ends[-1] - seconds) < 0.5
    texts = [c[-1] for c in cues]
    assert any(t.startswith("Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư") for t in texts)

    cached = client.post("/v1/read", json={"text": seed_text, "engine": "espeak"})
    assert cached.status_code == 200 and cached.json()["status"] == "ready"
    static = client.get(info["audio_url"])
    assert static.content == streamed.content
    part = client.get(info["audio_url"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == static.content[1000:2000]
