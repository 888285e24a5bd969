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
    assert stream_format(streamed.content) == HOUSE_FORMAT
    assert duration_seconds(streamed.content) == pytest.approx(seconds, abs=0.0005)

    # Every sentence of the article, in order, has its stretch of the audio, and the
    # stretches follow each other to the end: nothing was dropped or cut short.
    preview = client.post("/v1/normalize", json={"text": seed_text}).json()
    cues = re.findall(r"([\d:.]+) --> ([\d:.]+)\n(.+)", vtt)
    # (Cues carry phrase times inside, <00:01:54.216>, for the player's finer highlight.)
    heard = [re.sub(r"<[\d:.]+>", "", text) for _, _, text in cues]
    assert heard == [s["text"] for s in preview["sentences"]]
    assert cues[1][2].startswith("Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn")
    times = [(clock_seconds(start), clock_seconds(end)) for start, end, _ in cues]
    assert times[0][0] == 0
    for (_, end), (start, next_end) in zip(times, times[1:], strict=False):
        assert end <= start < end + 1.5 and start < next_end  # a pause, then speech
    assert times[-1][1] == pytest.approx(seconds, abs=0.5)

    cached = client.post("/v1/read", json={"text": seed_text, "engine": "espeak"})
    assert cached.status_code == 200 and cached.json()["status"] == "ready"
    static = client.get(info["audio_url"])
    assert static.content == streamed.content
    part = client.get(info["audio_url"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == static.content[1000:2000]


def clock_seconds(stamp: str) -> float:
    """``00:01:02.345`` → 62.345."""
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)
