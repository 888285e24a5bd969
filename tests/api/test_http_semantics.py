"""Finished audio and timings answer by RFC 9110: HEAD, validators, ranges (one table).

Each case is a request's method and headers, and the answer the RFC asks for, on every
route that serves a stored file: the listener's MP3 and VTT, and the registered article's.
"""

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

from tests.helpers import live_server
from tests.registry.cms import AUTH, CountingEngine, put, wait_job
from tts_service.api.main import create_app
from tts_service.cache import AudioCache
from tts_service.settings import Settings
from tts_service.synthesis import SpeechService

KEY = AUTH["Authorization"].removeprefix("Bearer ")
TEXT = "Sáng nay, UBND tỉnh họp bàn kế hoạch năm 2025. Các sở báo cáo tiến độ."
FUTURE = formatdate(4_102_444_800, usegmt=True)  # 2100
PAST = formatdate(0, usegmt=True)  # 1970

# (case, method, headers, expected status, expected byte slice as (start, stop) or None)
# ``L`` in a header stands for the file's length, ``E`` for its ETag.
CASES = [
    ("plain GET", "GET", {}, 200, (0, None)),
    ("HEAD has GET's headers, no body", "HEAD", {}, 200, None),
    ("first bytes", "GET", {"Range": "bytes=0-99"}, 206, (0, 100)),
    ("open-ended", "GET", {"Range": "bytes=100-"}, 206, (100, None)),
    ("suffix", "GET", {"Range": "bytes=-100"}, 206, (-100, None)),
    ("last byte past the end is cut", "GET", {"Range": "bytes=10-L9999"}, 206, (10, None)),
    ("suffix longer than the file", "GET", {"Range": "bytes=-L9999"}, 206, (0, None)),
    ("HEAD with a range", "HEAD", {"Range": "bytes=0-9"}, 206, None),
    ("first byte at the end", "GET", {"Range": "bytes=L-"}, 416, None),
    ("zero-length suffix", "GET", {"Range": "bytes=-0"}, 416, None),
    ("bad syntax is ignored", "GET", {"Range": "bytes=abc"}, 200, (0, None)),
    ("other unit is ignored", "GET", {"Range": "items=0-5"}, 200, (0, None)),
    ("last before first is ignored", "GET", {"Range": "bytes=50-10"}, 200, (0, None)),
    ("several ranges are ignored", "GET", {"Range": "bytes=0-1,5-6"}, 200, (0, None)),
    ("empty range spec is ignored", "GET", {"Range": "bytes=-"}, 200, (0, None)),
    ("current ETag", "GET", {"If-None-Match": "E"}, 304, None),
    ("current ETag in a list", "GET", {"If-None-Match": '"old", E'}, 304, None),
    ("weak comparison", "GET", {"If-None-Match": "W/E"}, 304, None),
    ("any ETag", "GET", {"If-None-Match": "*"}, 304, None),
    ("HEAD revalidates too", "HEAD", {"If-None-Match": "E"}, 304, None),
    ("another ETag", "GET", {"If-None-Match": '"old"'}, 200, (0, None)),
    ("not modified since", "GET", {"If-Modified-Since": FUTURE}, 304, None),
    ("modified since", "GET", {"If-Modified-Since": PAST}, 200, (0, None)),
    ("unreadable date is ignored", "GET", {"If-Modified-Since": "gestern"}, 200, (0, None)),
    (
        "If-None-Match wins over If-Modified-Since",
        "GET",
        {"If-None-Match": '"old"', "If-Modified-Since": FUTURE},
        200,
        (0, None),
    ),
    ("If-Range matches", "GET", {"Range": "bytes=0-9", "If-Range": "E"}, 206, (0, 10)),
    ("If-Range is stale", "GET", {"Range": "bytes=0-9", "If-Range": '"old"'}, 200, (0, None)),
    (
        "If-Range as a date is not ours",
        "GET",
        {"Range": "bytes=0-9", "If-Range": PAST},
        200,
        (0, None),
    ),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A service with one listener's article and one registered article, both finished.

    Module-scoped: every case only reads the same four files.
    """
    settings = Settings(
        cache_dir=tmp_path_factory.mktemp("cache"),
        engine=("espeak",),
        api_keys=[{"name": "cms", "key": KEY}],
    )
    service = SpeechService(
        settings,
        engines={"fake": CountingEngine()},
        cache=AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes),
    )
    with live_server(create_app(settings, service=service)) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            yield client, _finished(client, service)
    service.close()


def _finished(client, service):
    read = client.post("/v1/read", json={"text": TEXT})
    assert read.status_code == 202, read.text
    job = service.job(read.json()["id"])
    assert job is not None and job.wait(30)
    assert client.get(read.json()["audio_url"]).status_code == 200
    answer = put(client, "bai-1", text=TEXT + " Hết.")
    wait_job(client, answer.json()["job"]["id"])
    article = client.get("/v1/articles/bai-1", headers=AUTH).json()
    return {
        "mp3": read.json()["audio_url"],
        "vtt": read.json()["vtt_url"],
        "article mp3": article["audio_url"],
        "article vtt": article["audio_url"].replace("/audio", "/vtt"),
    }


def _fill(value: str, length: int, etag: str) -> str:
    """Put the file's length (``L``) and ETag (``E``) into a header of the table."""
    return (
        value.replace("L9999", str(length + 9999)).replace("=L-", f"={length}-").replace("E", etag)
    )


@pytest.mark.parametrize("route", ["mp3", "vtt", "article mp3", "article vtt"])
@pytest.mark.parametrize(
    ("case", "method", "headers", "status", "span"), CASES, ids=[c[0] for c in CASES]
)
def test_rfc9110(served, route, case, method, headers, status, span):
    client, urls = served
    url = urls[route]
    whole = client.get(url)
    assert whole.status_code == 200
    body, etag, length = whole.content, whole.headers["etag"], len(whole.content)
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == length
    sent = {
        name: (
            _fill(value, length, etag) if name in ("Range", "If-None-Match", "If-Range") else value
        )
        for name, value in headers.items()
    }
    answer = client.request(method, url, headers=sent)
    assert answer.status_code == status, (case, sent, answer.text)
    if status == 304:
        assert answer.content == b""
        assert answer.headers["etag"] == etag
    elif status == 416:
        assert answer.headers["content-range"] == f"bytes */{length}"
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {
            "detail": "Khoảng byte yêu cầu nằm ngoài tệp (range not satisfiable)."
        }
    elif method == "HEAD":
        assert answer.content == b""
        assert answer.headers["etag"] == etag
        assert answer.headers["content-type"] == whole.headers["content-type"]
        expected = length if status == 200 else 10
        assert int(answer.headers["content-length"]) == expected
    else:
        start, stop = span
        part = body[start:stop]
        assert answer.content == part
        assert int(answer.headers["content-length"]) == len(part)
        if status == 206:
            first = start % length if start < 0 else start
            assert answer.headers["content-range"] == (
                f"bytes {first}-{first + len(part) - 1}/{length}"
            )
        else:
            assert "content-range" not in answer.headers
