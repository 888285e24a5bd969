"""kill -9 the service while it reads registered articles; restart; nothing lost or redone.

The service runs as a real uvicorn process reading with gTTS against the loopback fake of
Google, one request at a time, so the moment of the kill is exact: Google has answered
the first ``K`` chunks (each stored before the next request goes out) and holds the next
one unanswered. After the restart every article must be ready, every MP3 must decode,
and no chunk Google already answered may be asked for again; only the held one may.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import assert_whole_audio
from tests.registry.cms import AUTH, KEY
from tts_service.testing.fake_google import FakeGoogle

ARTICLES = {
    f"bai-{n}": (
        f"Tin số {n}: Sở Nội vụ tỉnh Lạng Sơn họp sơ kết công tác thi đua lần thứ {n}.\n\n"
        f"Hội nghị thảo luận {n + 2} nội dung quan trọng. "
        f"Các đại biểu thống nhất kế hoạch của quý {n}."
    )
    for n in range(1, 5)
}
ANSWERED_BEFORE_KILL = 5
_LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@contextmanager
def service_process(
    tmp_path: Path, google: FakeGoogle
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The service in its own process; yields it and its base URL once it listens."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TTS_")},
        "TTS_ENGINE": "gtts,espeak",
        "TTS_GTTS_BASE_URL": google.base_url,
        "TTS_GTTS_CONCURRENCY": "1",
        "TTS_GTTS_RETRIES": "0",
        "TTS_CACHE_DIR": str(tmp_path / "cache"),
        "TTS_WORKERS": "1",
        # Long: a resumed job must not wait for the dead process's lease to run out.
        "TTS_JOB_LEASE_S": "600",
        "TTS_API_KEYS": json.dumps([{"name": "cms", "key": KEY}]),
        "TTS_LOG_FORMAT": "text",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tts_service.api.main:app", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            match = _LISTENING.search(line)
            if match:
                break
        else:
            raise AssertionError(f"the service did not start (exit {proc.wait()})")
        # Keep reading its log, or a full pipe would block the service mid-test.
        drain = threading.Thread(target=proc.stderr.read, daemon=True)
        drain.start()
        yield proc, f"http://127.0.0.1:{match.group(1)}"
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_kill_9_mid_batch_then_restart_loses_and_repeats_nothing(tmp_path):
    with FakeGoogle(latency=0.2) as google:
        with service_process(tmp_path, google) as (proc, base):
            with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
                jobs = {}
                for article_id, text in ARTICLES.items():
                    answer = client.put(f"/v1/articles/{article_id}", json={"text": text})
                    assert answer.status_code == 202, answer.text
                    jobs[article_id] = answer.json()["job"]["id"]
                # Requests arrive one at a time and each is held 0.2 s: once the K-th has
                # arrived, everything after it hangs.
                assert google.wait_for_requests(ANSWERED_BEFORE_KILL, timeout=60)
                google.hang_next(1000)
                assert google.wait_for_requests(ANSWERED_BEFORE_KILL + 1, timeout=60)
                answered = google.requests[:ANSWERED_BEFORE_KILL]
                held = google.requests[ANSWERED_BEFORE_KILL:]
                assert len(held) == 1
                done_before = [
                    a
                    for a in ARTICLES
                    if client.get(f"/v1/articles/{a}").json()["status"] == "ready"
                ]
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        assert len(done_before) < len(ARTICLES)

        google.reset()  # forget the scripted hangs and the first life's requests
        with service_process(tmp_path, google) as (_, base):
            with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
                for article_id, job_id in jobs.items():
                    job = client.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
                    assert job["state"] == "done", (article_id, job)
                    info = client.get(f"/v1/articles/{article_id}").json()
                    assert info["status"] == "ready" and info["engine"] == "gtts", info
                    audio = client.get(f"/v1/articles/{article_id}/audio")
                    assert audio.status_code == 200
                    assert_whole_audio(audio.content, info["duration_s"])
                again = google.requests

    assert not set(answered) & set(again), "chunks Google had answered were asked for again"
    assert len(again) == len(set(again)), "a chunk was asked for twice after the restart"
    assert set(held) <= set(again)
    assert (tmp_path / "cache" / "tmp").exists()
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
