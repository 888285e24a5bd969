"""Several API processes, each a real ``tts-service serve`` on loopback, share one cache
directory and their coordination: SQLite in the cache directory, or real PostgreSQL.

What the processes must share (docs/cluster.md, 1.4-1.5): single flight (an article and
each chunk asked of Google once, whichever process a listener reaches), a take-over when
the process making an article dies, one Google budget and one circuit breaker. Google is
the loopback fake, which counts what it is asked.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import assert_whole_audio
from tts_service.testing.fake_google import FakeGoogle

# Eight sentences: several chunks of gTTS's 100 characters at most.
ARTICLE = (
    "Sáng 15/3, Hội đồng nhân dân tỉnh khai mạc kỳ họp thứ bảy. "
    "Các đại biểu thảo luận về tình hình kinh tế xã hội trong quý một. "
    "Tỉnh đã hoàn thành nhiều công trình giao thông quan trọng ở vùng sâu. "
    "Giá trị sản xuất nông nghiệp tăng hơn năm phần trăm so với cùng kỳ. "
    "Nhiều doanh nghiệp mới được thành lập trong các khu công nghiệp. "
    "Ngành giáo dục tiếp tục đổi mới chương trình cho học sinh phổ thông. "
    "Công tác chăm sóc sức khỏe người dân được quan tâm đúng mức. "
    "Kỳ họp sẽ kéo dài trong ba ngày làm việc liên tiếp."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One ``tts-service serve`` process; its log is drained by a thread (so it never
    blocks on a full pipe) that says when uvicorn listens."""

    def __init__(self, env: dict[str, str], *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "tts_service", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(workers)]
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        # With workers, the parent says it runs before they have started: each says so.
        self._starting = workers if workers > 1 else 0
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if "Application startup complete" in line:
                self._starting -= 1
                if self._starting == 0:
                    self.ready.set()
            if "Uvicorn running on" in line and self._starting < 0:
                self.ready.set()
        self.ready.set()  # it exited: whoever waits looks at the exit code

    def wait_ready(self) -> None:
        assert self.ready.wait(180), "the server did not start in 3 minutes"
        assert self.process.poll() is None, "".join(self.lines[-40:])

    def kill(self) -> None:
        """``kill -9``: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._drain.join(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def messages(self) -> list[str]:
        found = []
        for line in self.lines:
            try:
                found.append(json.loads(line)["message"])
            except (ValueError, KeyError):
                found.append(line)
        return found


def service_env(tmp_path: Path, fake: FakeGoogle) -> dict[str, str]:
    """A server's environment: Google's voice from the fake, the test's cache directory,
    one text worker and no registry workers (two cores run every process)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TTS_")},
        "TTS_ENGINE": "gtts",
        "TTS_GTTS_BASE_URL": fake.base_url,
        "TTS_CACHE_DIR": str(tmp_path / "cache"),
        "TTS_TEXT_WORKERS": "1",
        "TTS_WORKERS": "0",
        "TTS_CLIENT_SYNTH_PER_MINUTE": "0",
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(request) -> dict[str, str]:
    """The settings that make processes share coordination: SQLite in the shared cache
    directory, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {"TTS_COORDINATION": "shared"}
    return {"TTS_DATABASE_URL": request.getfixturevalue("postgres_url")}


@pytest.fixture
def fake():
    with FakeGoogle(latency=0.2) as google:
        yield google


@pytest.fixture
def cluster(tmp_path, fake, shared):
    """Starts API processes on one cache directory with shared coordination."""
    servers: list[Server] = []

    def start(count: int = 2, **settings: str) -> list[Server]:
        env = {
            **service_env(tmp_path, fake),
            # Renewed every third of it, by a thread that a loaded machine (two cores, a
            # dozen processes) may not run for a second or two: a shorter one may expire
            # under a live maker, and the test would see a take-over that is right to ask
            # again for its chunks in flight.
            "TTS_LEASE_TTL_S": "10",
            "TTS_FOLLOW_POLL_S": "0.1",
            **shared,
            **settings,
        }
        started = [Server(env) for _ in range(count)]
        servers.extend(started)
        for server in started:
            server.wait_ready()
        return started

    yield start
    for server in servers:
        server.stop()


def coordination_log(*servers: Server) -> list[str]:
    """What the processes said about claims and following (for a failure's message)."""
    words = ("follow", "taken over", "lost", "lease", "claim")
    return [
        f"{n}: {m}"
        for n, server in enumerate(servers)
        for m in server.messages()
        if any(word in m for word in words)
    ]


def read(base: str, text: str) -> dict:
    """Asks for the article as the player does: a 503 (text workers all busy with the other
    listeners' requests) is asked again after its Retry-After."""
    for _ in range(60):
        answer = httpx.post(f"{base}/v1/read", json={"text": text}, timeout=60)
        if answer.status_code != 503:
            break
        time.sleep(float(answer.headers.get("retry-after", "1")))  # the client's backoff
    assert answer.status_code in (200, 202), answer.text
    return answer.json()


def listen(base: str, text: str) -> bytes:
    """One listener: asks for the article, then plays its audio to the end."""
    info = read(base, text)
    audio = httpx.get(info["audio_url"], timeout=120)
    assert audio.status_code == 200, audio.text
    return audio.content


def finished(base: str, text: str) -> dict:
    """The article once stored (asked again, it is served from the cache)."""
    info = read(base, text)
    assert info["status"] == "ready", info
    return info


def test_twenty_listeners_on_two_processes_get_one_audio_made_once(cluster, fake):
    a, b = cluster(2)
    with ThreadPoolExecutor(20) as pool:
        audios = list(pool.map(lambda i: listen((a, b)[i % 2].url, ARTICLE), range(20)))
    assert len(set(audios)) == 1, [len(audio) for audio in audios]
    info = finished(a.url, ARTICLE)
    assert_whole_audio(audios[0], info["duration_s"])
    # Every chunk asked of Google exactly once, though both processes had listeners.
    asked = Counter(fake.requests)
    assert asked and set(asked.values()) == {1}, (asked, coordination_log(a, b))
    assert finished(b.url, ARTICLE)["id"] == info["id"]


def test_a_killed_maker_is_taken_over_asking_again_only_the_chunk_in_flight(cluster, fake):
    # One engine thread: the maker has exactly one chunk at Google at a time.
    a, b = cluster(2, TTS_GTTS_CONCURRENCY="1", TTS_GTTS_RETRIES="0", TTS_LEASE_TTL_S="5")
    first = read(a.url, ARTICLE)
    assert fake.wait_for_requests(3, timeout=60)
    # The fourth request (sent only once the third is answered and stored) never returns.
    fake.hang_next(1)
    assert fake.wait_for_requests(4, timeout=60)
    before = fake.requests
    a.kill()
    audio = listen(b.url, ARTICLE)
    info = finished(b.url, ARTICLE)
    assert info["id"] == first["id"]
    assert_whole_audio(audio, info["duration_s"])
    asked = Counter(fake.requests)
    # The three chunks stored before the kill are reused; the one in flight is asked
    # again; every other chunk once.
    assert asked[before[3]] == 2, asked
    assert all(count == 1 for text, count in asked.items() if text != before[3]), asked
    assert [text for text in fake.requests[4:] if text in before[:3]] == []


TEXTS = [
    f"Bài số {n}. "
    + " ".join(
        f"Câu thứ {i} của bài số {n} nói về một việc khác nhau trong tỉnh." for i in range(6)
    )
    for n in (1, 2)
]


def test_two_processes_share_one_budget(cluster, fake):
    # Four requests at once, then one a minute: the deployment's, not each process's.
    a, b = cluster(
        2,
        TTS_ENGINE="gtts,espeak",
        TTS_GTTS_REQUESTS_PER_MINUTE="1",
        TTS_GTTS_BURST="4",
        TTS_GTTS_RETRIES="0",
    )
    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        audios = list(pool.map(listen, (a.url, b.url), TEXTS))
    elapsed = time.monotonic() - start
    for audio, text, server in zip(audios, TEXTS, (a, b), strict=True):
        assert_whole_audio(audio, finished(server.url, text)["duration_s"])
    # Over any T seconds at most burst + rate * T requests, for both processes together
    # (each alone would have sent 4: 8 in all). The rest was read by the fallback voice.
    assert 1 <= len(fake.requests) <= 4 + int(elapsed / 60) + 1, fake.requests


def test_one_process_opening_the_breaker_spares_the_other_its_retries(cluster, fake):
    a, b = cluster(
        2,
        TTS_ENGINE="gtts,espeak",
        TTS_GTTS_RETRIES="0",
        TTS_BREAKER_FAILURES="1",
        TTS_BREAKER_COOLDOWN_S="600",
        TTS_BREAKER_MAX_COOLDOWN_S="600",
        TTS_GTTS_CONCURRENCY="1",
    )
    fake.fail_next(1000, status=503)
    listen(a.url, TEXTS[0])
    assert finished(a.url, TEXTS[0])["engine"] == "espeak"
    asked = len(fake.requests)
    assert asked >= 1
    # The other process has never called Google; the shared breaker is open for it too.
    audio = listen(b.url, TEXTS[1])
    info = finished(b.url, TEXTS[1])
    assert info["engine"] == "espeak"
    assert_whole_audio(audio, info["duration_s"])
    assert len(fake.requests) == asked


def test_serve_workers_share_single_flight_through_the_cache_directory(tmp_path, fake):
    server = Server(service_env(tmp_path, fake), workers=2)
    try:
        server.wait_ready()
        with ThreadPoolExecutor(10) as pool:
            audios = list(pool.map(lambda _: listen(server.url, ARTICLE), range(10)))
        assert len(set(audios)) == 1
        assert_whole_audio(audios[0], finished(server.url, ARTICLE)["duration_s"])
        asked = Counter(fake.requests)
        assert asked and set(asked.values()) == {1}, asked
        assert (Path(tmp_path) / "cache" / "coordination.sqlite3").exists()
        # Two processes served, each with its own application.
        started = [m for m in server.messages() if "Application startup complete" in m]
        assert len(started) == 2, server.messages()
    finally:
        server.stop()
