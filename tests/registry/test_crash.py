"""kill -9 the service while it reads registered articles; restart; nothing lost or redone.

And the other way round: an article whose reading kills the process is given up after
``TTS_JOB_ATTEMPTS`` tries, instead of killing every process that resumes it.

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
from tests.registry.poison_worker import POISON
from tests.registry.test_webhooks import SECRET, receiver  # noqa: F401  (fixture)
from tts_service.registry.webhooks import verify
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
    tmp_path: Path, google: FakeGoogle, **settings: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The service in its own process; yields it and its base URL once it listens.

    ``settings`` are more environment variables (``TTS_DATABASE_URL=...``).
    """
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
        **settings,
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


def test_kill_9_mid_batch_then_restart_loses_and_repeats_nothing(tmp_path, store_url):
    with FakeGoogle(latency=0.2) as google:
        with service_process(tmp_path, google, TTS_DATABASE_URL=store_url) as (proc, base):
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
        with service_process(tmp_path, google, TTS_DATABASE_URL=store_url) as (_, base):
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


# -- a job that kills its process ----------------------------------------------------------


def test_a_job_that_kills_its_process_is_given_up_after_the_max_tries(
    serve,
    make_service,
    engine,
    receiver,  # noqa: F811
):
    attempts = 3
    keys = [{"name": "cms", "key": KEY, "webhook_url": receiver.url, "webhook_secret": SECRET}]
    # Registered as the CMS would; no worker runs in this process.
    service = make_service(engine, api_keys=keys, workers=0, job_attempts=attempts)
    client = serve(service)
    poison = client.put(
        "/v1/articles/doc", json={"text": f"Mở đầu bình thường. Đây là {POISON}."}, headers=AUTH
    )
    assert poison.status_code == 202, poison.text
    healthy = client.put("/v1/articles/lanh", json={"text": "Tin lành mạnh."}, headers=AUTH)
    assert healthy.status_code == 202, healthy.text

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TTS_")},
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "TTS_CACHE_DIR": str(service.settings.cache_dir),
        "TTS_DATABASE_URL": service.settings.registry_database,
        "TTS_JOB_ATTEMPTS": str(attempts),
        # Long: each new process must resume the dead one's job at once, not after a lease.
        "TTS_JOB_LEASE_S": "600",
        "TTS_API_KEYS": json.dumps(keys),
        "TTS_LOG_FORMAT": "text",
    }
    exits = []
    for _ in range(attempts + 1):
        # One more process than there are tries: before the fix, each one died too.
        run = subprocess.run(
            [sys.executable, "-m", "tests.registry.poison_worker"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        exits.append(run.returncode)
        if run.returncode != -signal.SIGKILL:
            break
    assert exits == [-signal.SIGKILL] * attempts + [0], run.stderr

    job = client.get(f"/v1/jobs/{poison.json()['job']['id']}", headers=AUTH).json()
    message = (
        f"Đã thử đọc bài {attempts} lần, lần cuối tiến trình đọc bị dừng giữa chừng; bài được bỏ "
        f"qua để không làm dịch vụ dừng tiếp (the last of {attempts} tries stopped the process "
        "reading it: given up, so that it cannot keep stopping the service)."
    )
    assert (job["state"], job["attempts"], job["error"]) == ("failed", attempts + 1, message)
    article = client.get("/v1/articles/doc", headers=AUTH).json()
    assert (article["status"], article["error"]) == ("failed", message)
    # The other article, queued behind it, was read by the process that gave it up.
    assert client.get("/v1/articles/lanh", headers=AUTH).json()["status"] == "ready"

    # The CMS hears about it as about any failure (this service sends what is still queued).
    calls = receiver.wait_for(2)
    events = sorted((c.json["event"], c.json["article"]["id"]) for c in calls)
    assert events == [("article.failed", "doc"), ("article.ready", "lanh")]
    failed = next(c.json["article"] for c in calls if c.json["event"] == "article.failed")
    assert failed["error"] == message
    assert all(verify(SECRET, c.headers["x-tts-signature"], c.body) for c in calls)
