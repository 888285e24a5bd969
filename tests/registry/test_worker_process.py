"""``tts-service worker``: registry jobs read by a process without HTTP, beside the API.

The API process has no workers of its own (``TTS_WORKERS=0``): a job it registers can
only be read by the worker process, which shares nothing with it but the PostgreSQL
registry (and, until the audio index moves there too, the cache directory).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import assert_whole_audio
from tests.registry.cms import AUTH
from tests.registry.test_crash import service_process
from tts_service.registry.store import ArticleStore
from tts_service.testing.fake_google import FakeGoogle

TEXT = (
    "Tin số 1: Sở Nội vụ tỉnh Lạng Sơn họp sơ kết công tác thi đua.\n\n"
    "Hội nghị thảo luận ba nội dung quan trọng. Các đại biểu thống nhất kế hoạch của quý."
)
_WAIT_S = 90


@contextmanager
def worker_process(
    tmp_path: Path, google: FakeGoogle, database_url: str
) -> Iterator[subprocess.Popen[str]]:
    """``python -m tts_service worker`` with the service's settings; yields once it reads jobs."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TTS_")},
        "TTS_ENGINE": "gtts,espeak",
        "TTS_GTTS_BASE_URL": google.base_url,
        "TTS_GTTS_CONCURRENCY": "1",
        "TTS_GTTS_RETRIES": "0",
        "TTS_CACHE_DIR": str(tmp_path / "cache"),
        "TTS_DATABASE_URL": database_url,
        "TTS_JOB_LEASE_S": "600",
        "TTS_LOG_FORMAT": "text",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tts_service", "worker", "--workers", "1"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "reading jobs" in line:
                break
        else:
            raise AssertionError(f"the worker did not start (exit {proc.wait()})")
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def _wait_done(client: httpx.Client, job_id: int) -> dict[str, object]:
    """Long-poll the job until it ends; the API process is not told when another one ends
    it, so each poll answers when its ``wait`` is up and the next one looks again."""
    for _ in range(_WAIT_S // 3):
        job = client.get(f"/v1/jobs/{job_id}", params={"wait": 3}).json()
        if job["state"] not in ("queued", "running"):
            return dict(job)
    raise AssertionError(f"job {job_id} did not end: {job}")


@pytest.mark.postgresql_only("processes on different machines share jobs through PostgreSQL")
def test_a_worker_process_reads_what_the_api_process_registered_and_hands_back_on_sigterm(
    tmp_path, store_url
):
    with FakeGoogle() as google:
        service = service_process(tmp_path, google, TTS_DATABASE_URL=store_url, TTS_WORKERS="0")
        with service as (_, base), httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
            with worker_process(tmp_path, google, store_url) as worker:
                answer = client.put("/v1/articles/tin-1", json={"text": TEXT})
                assert answer.status_code == 202, answer.text
                job = _wait_done(client, answer.json()["job"]["id"])
                assert job["state"] == "done", job
                info = client.get("/v1/articles/tin-1").json()
                assert info["status"] == "ready" and info["engine"] == "gtts", info
                audio = client.get("/v1/articles/tin-1/audio")
                assert audio.status_code == 200
                assert_whole_audio(audio.content, info["duration_s"])
                made = len(google.requests)
                assert made > 0  # the worker asked Google: the API process reads nothing

                # SIGTERM while Google holds the worker's request: the job is handed back.
                google.hang_next(1000)
                second = client.put("/v1/articles/tin-2", json={"text": TEXT + " Hết."})
                assert second.status_code == 202, second.text
                assert google.wait_for_requests(made + 1, timeout=60)
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=60) == 0

            store = ArticleStore.open(store_url)
            try:
                handed_back = store.job(second.json()["job"]["id"])
                assert handed_back is not None
                # The interrupted try is not counted against it ...
                assert handed_back.attempts == 0, handed_back
                # ... and it is claimable at once, not after TTS_JOB_LEASE_S (lent for a
                # millisecond here, so the next worker takes it straight over).
                claimed = store.claim("test-looks-only", lease_s=0.001)
            finally:
                store.close()
            assert claimed is not None and claimed.id == handed_back.id, (handed_back, time.time())
            google.reset()
            with worker_process(tmp_path, google, store_url):
                job = _wait_done(client, second.json()["job"]["id"])
                assert job["state"] == "done", job
            assert client.get("/v1/articles/tin-2").json()["status"] == "ready"


def test_the_worker_command_refuses_an_unusable_database_url(tmp_path):
    """A wrong TTS_DATABASE_URL is one line and a non-zero exit, not a traceback."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TTS_")},
        "TTS_ENGINE": "espeak",
        "TTS_CACHE_DIR": str(tmp_path / "cache"),
        "TTS_DATABASE_URL": "mysql://db/tts",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tts_service", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "TTS_DATABASE_URL" in done.stderr
