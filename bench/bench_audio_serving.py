"""Benchmark complete-audio GETs: through Python, via X-Accel-Redirect, and nginx alone.

Issue 11, item 5: audio bytes should not go through Python in production. This stores one
article (a 1 MB MP3, about four minutes at the house 32 kbit/s) in a cache directory,
starts the service as a real uvicorn process over it, and nginx (Debian's, as the tests
use it: ``tests/infra/nginx.py``) on loopback, then measures, each for a few seconds with
8 client threads on keep-alive connections:

- ``python``: ``GET /v1/audio/<id>.mp3`` straight to the service (the quick start);
- ``nginx → python``: the same through nginx proxying to the service (bytes still
  through Python: the S3 streaming path costs the same or more);
- ``x-accel``: through nginx, the service answering ``X-Accel-Redirect`` and nginx
  sending the file (``TTS_AUDIO_ACCEL_REDIRECT``);
- ``nginx alone``: nginx serving the file directly (what a ``TTS_AUDIO_PUBLIC_URL``
  over the cache directory, or a CDN, costs at best);

each for the whole MP3 and for a player's first ``Range: bytes=0-65535``. Reported: GETs a
second, and CPU seconds the servers (uvicorn, nginx's processes) used per 1,000 GETs — the
steadier figure on a shared machine, since the client threads run on the same two cores.

    .venv/bin/python bench/bench_audio_serving.py [--seconds 5] \\
        [--json bench/results/audio_serving.json]

About a minute; needs nginx (scripts/install-test-deps.sh).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_load import cpu_seconds, free_port, start_service, stop  # noqa: E402
from tests.infra.nginx import start_nginx  # noqa: E402
from tts_service.cache import AudioCache  # noqa: E402

HOST = "127.0.0.1"
THREADS = 8
ARTICLE_BYTES = 1_000_000
KEY = "5e" + "0123456789abcdef" * 2 + "012345"  # 40 hex digits, as the service's keys


def fill_cache(root: Path) -> None:
    """One complete article, as the service stores it (the bytes need not decode here)."""
    cache = AudioCache(root, max_bytes=10**9)
    body = (b"\xff\xfb\x52\xc4" + bytes(range(256)) * 2)[:516] * (ARTICLE_BYTES // 516 + 1)
    cache.put_article(
        KEY,
        mp3=body[:ARTICLE_BYTES],
        vtt="WEBVTT\n",
        meta={"engine": "gtts", "duration_s": 250.0},
    )
    cache.close()


def server_pids(nginx_pid: int | None, service_pid: int | None) -> list[int]:
    """The processes whose CPU counts: the service, nginx's master and its workers."""
    pids = [p for p in (service_pid, nginx_pid) if p is not None]
    if nginx_pid is not None:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == nginx_pid:
                pids.append(int(stat.parent.name))
    return pids


def total_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def hammer(port: int, path: str, headers: dict[str, str], seconds: float) -> tuple[int, int]:
    """GETs by THREADS keep-alive clients for ``seconds``: (requests, bytes)."""
    counts = [0] * THREADS
    sizes = [0] * THREADS
    stop_at = time.monotonic() + seconds
    errors: list[str] = []

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.monotonic() < stop_at:
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            if answer.status not in (200, 206):
                errors.append(f"{answer.status} {body[:200]!r}")
                return
            counts[i] += 1
            sizes[i] += len(body)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{path}: {errors[0]}")
    return sum(counts), sum(sizes)


def measure(
    name: str, port: int, path: str, pids: list[int], seconds: float
) -> list[dict[str, Any]]:
    rows = []
    for what, headers in (("whole", {}), ("first 64 KiB", {"Range": "bytes=0-65535"})):
        hammer(port, path, headers, 0.5)  # warm: connections, page cache
        cpu_before, wall_before = total_cpu(pids), time.monotonic()
        requests, size = hammer(port, path, headers, seconds)
        wall = time.monotonic() - wall_before
        cpu = total_cpu(pids) - cpu_before
        row = {
            "how": name,
            "what": what,
            "gets_per_s": round(requests / wall, 1),
            "mb_per_s": round(size / wall / 1e6, 1),
            "server_cpu_s_per_1000": round(cpu / requests * 1000, 3) if requests else None,
        }
        print(json.dumps(row), flush=True)  # noqa: T201 - the benchmark's output
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tts-bench-audio-") as tmp:
        root = Path(tmp) / "cache"
        fill_cache(root)
        env = {"TTS_CACHE_DIR": str(root), "TTS_ENGINE": "espeak", "TTS_LOG_LEVEL": "warning"}
        audio = f"/v1/audio/{KEY}.mp3"
        plain_port, accel_port = free_port(), free_port()
        plain = start_service(env, plain_port, log_to=None)
        accel = start_service(
            {**env, "TTS_AUDIO_ACCEL_REDIRECT": "/_audio/"}, accel_port, log_to=None
        )
        try:
            # Keep-alive connections to the service, as a production proxy is configured.
            upstreams = (
                f"    upstream plain {{ server {HOST}:{plain_port}; keepalive 16; }}\n"
                f"    upstream accel {{ server {HOST}:{accel_port}; keepalive 16; }}\n"
                "    proxy_http_version 1.1;\n"
                '    proxy_set_header Connection "";\n'
            )
            locations = (
                f"        location /_audio/ {{ internal; alias {root}/;\n"
                "            etag off; add_header ETag $upstream_http_etag; }\n"
                f"        location /files/ {{ alias {root}/; }}\n"
                "        location /plain/ { proxy_pass http://plain/; }\n"
                "        location / { proxy_pass http://accel; }\n"
            )
            with start_nginx(locations, http_block=upstreams) as nginx:
                nginx_pid = nginx.process.pid
                rows += measure("python", plain_port, audio, [plain.pid], args.seconds)
                rows += measure(
                    "nginx → python",
                    nginx.port,
                    f"/plain{audio}",
                    server_pids(nginx_pid, plain.pid),
                    args.seconds,
                )
                rows += measure(
                    "x-accel",
                    nginx.port,
                    audio,
                    server_pids(nginx_pid, accel.pid),
                    args.seconds,
                )
                rows += measure(
                    "nginx alone",
                    nginx.port,
                    f"/files/articles/{KEY[:2]}/{KEY}.mp3",
                    server_pids(nginx_pid, None),
                    args.seconds,
                )
        finally:
            stop(plain)
            stop(accel)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "threads": THREADS,
        "article_bytes": ARTICLE_BYTES,
        "seconds": args.seconds,
        "rows": rows,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
