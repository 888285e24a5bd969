"""A full disk under the cache: listeners still get whole audio or a clean 503.

The cache lives on a 2 MB tmpfs filled to the last byte by a ballast file, so every write
(audio, metadata, the SQLite index) meets a real ENOSPC. Mounting needs root; elsewhere
the test is skipped, except in CI (``CI`` set), where a skip fails (tests/conftest.py).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import assert_whole_audio, text_tone
from tts_service.cache import AudioCache
from tts_service.settings import Settings
from tts_service.synthesis import SpeechService
from tts_service.testing import FakeEngine

TEXT = (
    "Ngày 09/7/2021, Sở Nội vụ tỉnh Lạng Sơn tổ chức hội nghị sơ kết thi đua.\n"
    "Hội nghị đã thảo luận đánh giá kết quả đạt được và những hạn chế tồn tại."
)
TIMEOUT_S = 20.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, unmounted afterwards; skipped unless this process may mount."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], timeout=10, check=False)


def fill(path: Path) -> None:
    """Write ``path`` until the filesystem has not a byte left."""
    with open(path, "wb", buffering=0) as fh:
        for block in (1 << 16, 1 << 12, 1 << 8, 1):
            try:
                while True:
                    fh.write(b"\0" * block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


class GatedVoice:
    """Fake speech that waits (bounded) for the test to open the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def __call__(self, text: str) -> bytes:
        self.gate.wait(TIMEOUT_S)
        return text_tone(text)


@pytest.fixture
def voice() -> Iterator[GatedVoice]:
    voice = GatedVoice()
    yield voice
    voice.gate.set()


def build_service(cache_dir: Path, voice) -> SpeechService:
    settings = Settings(
        cache_dir=cache_dir,
        engine=("espeak",),
        client_synth_per_minute=0,
        stream_timeout_s=TIMEOUT_S,
    )
    cache = AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes)
    return SpeechService(settings, engines={"fake": FakeEngine(voice, name="fake")}, cache=cache)


@pytest.fixture
def service(small_disk: Path, voice: GatedVoice) -> Iterator[SpeechService]:
    """A service with a fake voice whose cache is on the small disk."""
    service = build_service(small_disk / "cache", voice)
    try:
        yield service
    finally:
        voice.gate.set()
        service.close()


def expected_audio(tmp_path: Path, text: str) -> tuple[bytes, float]:
    """The article ``text`` and its duration as the same service makes it on a roomy disk."""
    reference = build_service(tmp_path / "roomy", text_tone)
    try:
        result = reference.read(text=text)
        job = reference.job(result.id)
        assert job is not None and job.wait(TIMEOUT_S)
        done = reference.find(result.id)
        stored = reference.stored(result.id)
        assert done is not None and done.duration_s is not None and stored is not None
        return reference.cache.read_mp3(stored), done.duration_s
    finally:
        reference.close()


def assert_clean_503(response: httpx.Response, retry_after: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == retry_after, response.headers


def read_through_a_full_disk(client, voice, ballast, expected):
    """Start reading TEXT, fill the disk before its chunks arrive; the listener's info.

    ``expected`` is the article's audio and duration as made on a disk with room."""
    started = client.post("/v1/read", json={"text": TEXT})
    assert started.status_code == 202, started.text
    fill(ballast)
    voice.gate.set()
    info = started.json()
    # The listener gets every byte (from memory); the timings could not be stored.
    audio = client.get(info["audio_url"], timeout=TIMEOUT_S)
    assert audio.status_code == 200
    assert audio.content == expected[0]
    assert_whole_audio(audio.content, expected[1])
    assert "accept-ranges" not in audio.headers  # from memory, not a stored file
    # The timings are retried soon: the article may be stored once space returns.
    assert_clean_503(client.get(info["vtt_url"], timeout=TIMEOUT_S), "5")
    return info


def assert_stored_and_static(client, service, text, expected, status):
    """Read ``text`` (answered ``status``) and check it is stored, then served as a static,
    seekable file: ``expected``, byte for byte."""
    answer = client.post("/v1/read", json={"text": text})
    assert answer.status_code == status, answer.text
    info = answer.json()
    streamed = client.get(info["audio_url"], timeout=TIMEOUT_S)
    assert streamed.status_code == 200
    assert streamed.content == expected[0]
    assert client.get(info["vtt_url"], timeout=TIMEOUT_S).status_code == 200
    stored = service.stored(info["id"])
    assert stored is not None
    static = client.get(info["audio_url"])
    assert static.status_code == 200
    assert static.headers["accept-ranges"] == "bytes"
    assert static.content == expected[0]
    assert stored.meta["duration_s"] == expected[1]
    assert_whole_audio(static.content, expected[1])


def test_a_full_disk_never_serves_partial_audio_and_recovers(
    serve, service, voice, small_disk, tmp_path
):
    client = serve(service)
    ballast = small_disk / "ballast"
    info = read_through_a_full_disk(client, voice, ballast, expected_audio(tmp_path, TEXT))

    # A new article on the full disk: its request's alias cannot be written to the index,
    # so the listener is told to come back (never a 500, never audio that is not kept).
    other_text = TEXT.replace("09/7", "10/7")
    other = client.post("/v1/read", json={"text": other_text})
    assert_clean_503(other, "60")
    assert "(audio cache unavailable)" in other.json()["detail"]

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["cache_writable"] is False

    # Nothing partial is servable, and the index still opens and agrees with the files.
    root = service.cache.root
    assert list((root / "tmp").iterdir()) == []
    assert service.stored(info["id"]) is None
    assert list((root / "articles").glob(f"*/{info['id']}.*")) == []
    reopened = AudioCache(root, max_bytes=service.cache.max_bytes)
    try:
        assert reopened.get_article(info["id"]) is None
    finally:
        reopened.close()
    db = sqlite3.connect(root / "index.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()

    # Space returns: the article refused on the full disk is stored on the next request.
    ballast.unlink()
    assert client.get("/readyz").status_code == 200
    assert_stored_and_static(client, service, other_text, expected_audio(tmp_path, other_text), 202)


def test_an_article_served_from_memory_is_stored_once_space_returns(
    serve, service, voice, small_disk, tmp_path
):
    client = serve(service)
    ballast = small_disk / "ballast"
    expected = expected_audio(tmp_path, TEXT)
    read_through_a_full_disk(client, voice, ballast, expected)
    ballast.unlink()
    # Still in memory (its job finished a moment ago): stored now, and answered as ready.
    assert_stored_and_static(client, service, TEXT, expected, 200)
