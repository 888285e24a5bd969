"""A full disk under the cache: listeners still get whole audio or a clean 503.

The cache lives on a 2 MB tmpfs filled to the last byte by a ballast file, so every write
(audio, metadata, the SQLite index) meets a real ENOSPC. Mounting needs root; elsewhere
the test is skipped.
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

from tests.helpers import decode_seconds, text_tone
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


@pytest.fixture
def service(small_disk: Path, voice: GatedVoice) -> Iterator[SpeechService]:
    """A service with a fake voice whose cache is on the small disk."""
    settings = Settings(
        cache_dir=small_disk / "cache",
        engine=("espeak",),
        client_synth_per_minute=0,
        stream_timeout_s=TIMEOUT_S,
    )
    cache = AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes)
    service = SpeechService(settings, engines={"fake": FakeEngine(voice, name="fake")}, cache=cache)
    try:
        yield service
    finally:
        voice.gate.set()
        service.close()


def assert_clean_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0


def read_through_a_full_disk(client, voice, ballast):
    """Start reading TEXT, fill the disk before its chunks arrive; the listener's info."""
    started = client.post("/v1/read", json={"text": TEXT})
    assert started.status_code == 202, started.text
    fill(ballast)
    voice.gate.set()
    info = started.json()
    # The listener gets every byte (from memory); the timings could not be stored.
    audio = client.get(info["audio_url"], timeout=TIMEOUT_S)
    assert audio.status_code == 200
    decode_seconds(audio.content)
    assert "accept-ranges" not in audio.headers  # from memory, not a stored file
    assert_clean_503(client.get(info["vtt_url"], timeout=TIMEOUT_S))
    return info


def assert_stored_and_static(client, service, text):
    """Read ``text`` and check it is stored, then served as a static, seekable file."""
    answer = client.post("/v1/read", json={"text": text})
    assert answer.status_code in (200, 202), answer.text
    info = answer.json()
    streamed = client.get(info["audio_url"], timeout=TIMEOUT_S)
    assert streamed.status_code == 200
    decode_seconds(streamed.content)
    assert client.get(info["vtt_url"], timeout=TIMEOUT_S).status_code == 200
    stored = service.stored(info["id"])
    assert stored is not None
    static = client.get(info["audio_url"])
    assert static.status_code == 200
    assert static.headers["accept-ranges"] == "bytes"
    assert abs(decode_seconds(static.content) - float(stored.meta["duration_s"])) < 0.1


def test_a_full_disk_never_serves_partial_audio_and_recovers(serve, service, voice, small_disk):
    client = serve(service)
    ballast = small_disk / "ballast"
    info = read_through_a_full_disk(client, voice, ballast)

    # A new article on the full disk: whole audio, or told to come back; never a 500.
    other_text = TEXT.replace("09/7", "10/7")
    other = client.post("/v1/read", json={"text": other_text})
    if other.status_code == 503:
        assert_clean_503(other)
    else:
        assert other.status_code in (200, 202), other.text
        other_audio = client.get(other.json()["audio_url"], timeout=TIMEOUT_S)
        if other_audio.status_code == 200:
            decode_seconds(other_audio.content)
        else:
            assert_clean_503(other_audio)

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
    assert_stored_and_static(client, service, other_text)


def test_an_article_served_from_memory_is_stored_once_space_returns(
    serve, service, voice, small_disk
):
    client = serve(service)
    ballast = small_disk / "ballast"
    read_through_a_full_disk(client, voice, ballast)
    ballast.unlink()
    assert_stored_and_static(client, service, TEXT)
