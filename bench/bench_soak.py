"""Soak the service: mixed traffic against one process for minutes, watching 5xx and memory.

One service process (uvicorn, Google's voice against a loopback fake that fails 30% of its
requests, eSpeak NG as the fallback) gets, at once and for ``--minutes``:

- new articles of every size (a sentence, a page, a long report, up to 100,000 characters),
  each streamed to the end by its listener;
- slow readers: a new article streamed a few KB at a time with pauses;
- cached reads: ``POST /v1/read`` of articles already made, then ``GET`` of a range of the MP3
  (their latency is the p99 reported);
- hostile inputs: empty and oversized texts, broken JSON, nested HTML, long runs of symbols,
  numbers and numerals, control and format characters, unknown engines.

It reports the count of 5xx answers (the goal is 0), the p99 of cached reads per tenth of
the run, the service's memory (``VmRSS`` sampled every 2 s, ``VmHWM`` as the peak) and the
growth of RSS between the first and the last tenth of the run, and the RSS once the load
has stopped and the last jobs ended.

    .venv/bin/python bench/bench_soak.py [--minutes 30] [--json bench/results/soak.json]

Every request goes to 127.0.0.1; whatever the script starts it stops.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_load import (  # noqa: E402
    HOST,
    SEED,
    free_port,
    listeners,
    log,
    proc_status_mib,
    start_service,
    stop,
)
from tts_service.testing.fake_google import FakeGoogle, FaultPlan  # noqa: E402

SAMPLE_EVERY_S = 2.0
SETTLE_S = 130.0  # idle after the load, past the 120 s finished jobs are kept
# Listeners at once of each kind (all on 127.0.0.1: the per-client limits are lifted).
NEW_READERS = 3
SLOW_READERS = 2
CACHED_READERS = 3
HOSTILE_SENDERS = 1
SLOW_BLOCK = 4096  # bytes a slow reader takes at a time …
SLOW_PAUSE_S = 0.05  # … and how long it waits before the next (about 80 KB/s)

SENTENCES = (
    "Sáng nay, Ủy ban nhân dân tỉnh Lạng Sơn họp bàn kế hoạch phát triển kinh tế năm 2025.",
    "Giá xăng RON 95 giảm 500 đồng mỗi lít từ 15 giờ chiều ngày 12/3.",
    "Đội tuyển Việt Nam thắng 2-1 trong trận giao hữu tối qua tại sân Mỹ Đình.",
    "Sở Giáo dục cho biết 98,5% học sinh lớp 12 đã đăng ký dự thi tốt nghiệp.",
    "Hội nghị lần thứ XVI đã thảo luận về 12 nhóm giải pháp trọng tâm.",
)
# Article sizes in characters, and how often each is asked for.
SIZES = ((200, 0.45), (2_000, 0.3), (12_000, 0.17), (40_000, 0.06), (100_000, 0.02))


def article(rng: random.Random, serial: str, chars: int) -> str:
    """A new article of about ``chars`` characters nobody asked for before."""
    parts = [f"Bản tin {serial}."]
    size = len(parts[0])
    paragraph = 0
    while size < chars:
        sentence = rng.choice(SENTENCES).replace("2025", str(1990 + paragraph % 40))
        parts.append(sentence if paragraph % 4 else f"\n{sentence}")
        size += len(sentence) + 1
        paragraph += 1
    return " ".join(parts)[:chars]


def hostile(rng: random.Random, serial: int) -> tuple[str, dict[str, Any] | bytes]:
    """A hostile request body: ``("json", payload)`` or ``("raw", bytes)``."""
    cases: list[Callable[[], tuple[str, Any]]] = [
        lambda: ("json", {"text": ""}),
        lambda: ("json", {"text": "   \n\t  "}),
        lambda: ("json", {"text": "x" * 100_001}),
        lambda: ("raw", b'{"text": "unterminated'),
        lambda: ("json", {"text": "Xin chào", "engine": "không-có"}),
        lambda: ("json", {"html": "<div>" * 3000 + f"Tin {serial} cuối." + "</div>" * 3000}),
        lambda: ("json", {"text": f"a{'-' * 2000}b {serial}"}),
        lambda: ("json", {"text": " ".join(str(n) for n in range(serial, serial + 2000))}),
        lambda: ("json", {"text": "XVI " * 1500 + str(serial)}),
        lambda: ("json", {"text": f"Ngày\u2066 09/7/2021\u2069\u00ad {serial}\u200e\u0000\u0007"}),
        lambda: ("json", {"text": "🙂" * 500 + str(serial)}),
        lambda: ("json", {"text": "cập nhật lúc " * 8 + f"bài {serial}"}),
        lambda: ("json", {"url": "http://169.254.169.254/latest/meta-data/"}),
    ]
    return rng.choice(cases)()


class Soak:
    """The traffic, its outcomes and the memory samples."""

    def __init__(self, base: str, pid: int, seconds: float, cached: list[dict[str, Any]]) -> None:
        self.base = base
        self.pid = pid
        self.start = time.monotonic()
        self.end = self.start + seconds
        self.cached = cached
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self.transport_errors: Counter[str] = Counter()
        self.cached_latency: list[tuple[float, float]] = []  # (elapsed, seconds)
        self.rss: list[tuple[float, float]] = []
        self.streams = Counter[str]()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def record(self, response: httpx.Response, what: str) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{what}: {response.status_code} {response.text[:200]}")

    def running(self) -> bool:
        return time.monotonic() < self.end

    # -- workers -----------------------------------------------------------------------

    def _stream(self, client: httpx.Client, url: str, *, slow: bool) -> None:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                response.read()
                self.record(response, "stream")
                return
            self.record(response, "stream")
            got = 0
            for block in response.iter_bytes(SLOW_BLOCK if slow else 65536):
                got += len(block)
                if slow:
                    time.sleep(SLOW_PAUSE_S)  # a slow listener, on purpose
        with self.lock:
            self.streams["slow" if slow else "new"] += 1

    def new_reader(self, seed: int, *, slow: bool) -> None:
        rng = random.Random(seed)
        sizes, weights = zip(*SIZES, strict=True)
        with httpx.Client(base_url=self.base, timeout=httpx.Timeout(600.0)) as client:
            n = 0
            while self.running():
                n += 1
                chars = 2_000 if slow else rng.choices(sizes, weights)[0]
                text = article(rng, f"{seed}-{n}", chars)
                try:
                    answer = client.post("/v1/read", json={"text": text})
                    self.record(answer, "new")
                    if answer.status_code in (200, 202):
                        self._stream(client, answer.json()["audio_url"], slow=slow)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.transport_errors[type(exc).__name__] += 1

    def cached_reader(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while self.running():
                payload = rng.choice(self.cached)
                t0 = time.perf_counter()
                try:
                    answer = client.post("/v1/read", json=payload["body"])
                    took = time.perf_counter() - t0
                    self.record(answer, "cached")
                    with self.lock:
                        self.cached_latency.append((self.elapsed(), took))
                    start = rng.randrange(0, max(1, payload["bytes"] - 65536))
                    part = client.get(
                        payload["audio_url"], headers={"Range": f"bytes={start}-{start + 65535}"}
                    )
                    self.record(part, "range")
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.transport_errors[type(exc).__name__] += 1

    def hostile_sender(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.base, timeout=120) as client:
            n = 0
            while self.running():
                n += 1
                kind, body = hostile(rng, seed * 1_000_000 + n)
                try:
                    if kind == "raw":
                        answer = client.post(
                            "/v1/read", content=body, headers={"Content-Type": "application/json"}
                        )
                    else:
                        answer = client.post("/v1/read", json=body)
                    self.record(answer, f"hostile {str(body)[:60]!r}")
                    if answer.status_code in (200, 202):
                        self._stream(client, answer.json()["audio_url"], slow=False)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.transport_errors[type(exc).__name__] += 1

    def sampler(self) -> None:
        while self.running():
            self.rss.append((self.elapsed(), proc_status_mib(self.pid, "VmRSS")))
            time.sleep(SAMPLE_EVERY_S)  # sampling interval


def prepare(client: httpx.Client) -> list[dict[str, Any]]:
    """Articles read (and so cached) before the soak starts: what cached readers ask for."""
    bodies = [{"text": SEED.read_text(encoding="utf-8")}] + [{"text": s} for s in SENTENCES]
    cached = []
    for body in bodies:
        answer = client.post("/v1/read", json=body)
        if answer.status_code not in (200, 202):
            raise RuntimeError(f"could not read {str(body)[:80]}: {answer.text}")
        info = answer.json()
        audio = client.get(info["audio_url"]).raise_for_status().content  # streams to the end
        deadline = time.monotonic() + 300
        while client.post("/v1/read", json=body).json()["status"] != "ready":
            if time.monotonic() > deadline:
                raise RuntimeError("an article to cache was never stored")
            time.sleep(0.1)  # polling the service's own status
        cached.append({"body": body, "audio_url": info["audio_url"], "bytes": len(audio)})
    return cached


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def summarise(soak: Soak, seconds: float, final_rss: float, peak: float) -> dict[str, Any]:
    """The figures: 5xx, cached-read p99 per tenth, memory at the start, peak, end."""
    tenth = seconds / 10
    p99_by_tenth = [
        p99([took for at, took in soak.cached_latency if i * tenth <= at < (i + 1) * tenth]) * 1000
        for i in range(10)
    ]
    rss_by_tenth = [
        statistics.mean([rss for at, rss in soak.rss if i * tenth <= at < (i + 1) * tenth] or [0])
        for i in range(10)
    ]
    first = [rss for at, rss in soak.rss if at < tenth]
    last = [rss for at, rss in soak.rss if at >= seconds - tenth]
    return {
        "seconds": round(seconds),
        "requests": sum(soak.statuses.values()),
        "statuses": dict(sorted(soak.statuses.items())),
        "5xx": sum(n for status, n in soak.statuses.items() if status >= 500),
        "server_errors": soak.server_errors[:10],
        "transport_errors": dict(soak.transport_errors),
        "streams_completed": dict(soak.streams),
        "cached_reads": len(soak.cached_latency),
        "cached_p50_ms": statistics.median(t for _, t in soak.cached_latency) * 1000,
        "cached_p99_ms": p99([t for _, t in soak.cached_latency]) * 1000,
        "cached_p99_ms_by_tenth": [round(v, 1) for v in p99_by_tenth],
        "rss_mib_by_tenth": [round(v) for v in rss_by_tenth],
        "rss_first_tenth_mib": statistics.mean(first) if first else float("nan"),
        "rss_last_tenth_mib": statistics.mean(last) if last else float("nan"),
        "rss_peak_mib": peak,
        "rss_after_load_mib": final_rss,
    }


def long_articles(base: str, pid: int, count: int) -> dict[str, Any]:
    """``count`` listeners at once, each with a new 100,000-character article streamed to
    the end (the load that once took the service from 99 to 960 MB); memory around it."""
    rng = random.Random(7)
    payloads: list[dict[str, str] | None] = [
        {"text": article(rng, f"dài-{i}", 100_000)} for i in range(count)
    ]
    figures = listeners(base, pid, payloads, "", 1800)
    time.sleep(SETTLE_S)  # idle on purpose: finished jobs are forgotten after 120 s
    figures["rss_after_settle_mib"] = proc_status_mib(pid, "VmRSS")
    return figures


def bench(
    minutes: float, extra_env: dict[str, str] | None = None, long_count: int = 0
) -> dict[str, Any]:
    """Start the fake Google and the service, soak, stop everything."""
    seconds = minutes * 60
    with (
        tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp,
        FakeGoogle(latency=0.05, faults=FaultPlan(rate_5xx=0.3, seed=12)) as google,
    ):
        port = free_port()
        env = {
            "TTS_ENGINE": "gtts,espeak",
            "TTS_GTTS_BASE_URL": google.base_url,
            "TTS_GTTS_BACKOFF_BASE_S": "0.05",
            "TTS_GTTS_BACKOFF_MAX_S": "0.5",
            "TTS_GTTS_REQUESTS_PER_MINUTE": "6000",
            "TTS_GTTS_BURST": "100",
            "TTS_CACHE_DIR": str(Path(tmp) / "cache"),
            "TTS_LOG_LEVEL": "warning",
            "TTS_CLIENT_SYNTH_PER_MINUTE": "0",  # every reader is on 127.0.0.1
            "TTS_CLIENT_MAX_JOBS": "16",
            **(extra_env or {}),
        }
        with open(Path(tmp) / "service.log", "wb") as service_log:
            proc = start_service(env, port, log_to=service_log)
            try:
                base = f"http://{HOST}:{port}"
                if long_count:
                    log(f"{long_count} concurrent listeners of 100,000-character articles")
                    figures = long_articles(base, proc.pid, long_count)
                    if not minutes:
                        return {"long_articles": figures}
                with httpx.Client(base_url=base, timeout=600) as client:
                    cached = prepare(client)
                log(f"{len(cached)} articles cached; soaking for {minutes:g} min")
                rss_start = proc_status_mib(proc.pid, "VmRSS")
                soak = Soak(base, proc.pid, seconds, cached)
                threads = [threading.Thread(target=soak.sampler, name="sampler")]
                threads += [
                    threading.Thread(target=soak.new_reader, args=(i,), kwargs={"slow": False})
                    for i in range(NEW_READERS)
                ]
                threads += [
                    threading.Thread(target=soak.new_reader, args=(100 + i,), kwargs={"slow": True})
                    for i in range(SLOW_READERS)
                ]
                threads += [
                    threading.Thread(target=soak.cached_reader, args=(200 + i,))
                    for i in range(CACHED_READERS)
                ]
                threads += [
                    threading.Thread(target=soak.hostile_sender, args=(300 + i,))
                    for i in range(HOSTILE_SENDERS)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                ran = soak.elapsed()
                # The load has stopped and every listener has its stream: the jobs ended.
                # The service idles a while (finished jobs are forgotten after 120 s).
                time.sleep(SETTLE_S)  # idle on purpose
                with httpx.Client(base_url=base, timeout=10) as client:
                    metrics = client.get("/metrics").text
                results = summarise(
                    soak,
                    seconds,
                    proc_status_mib(proc.pid, "VmRSS"),
                    proc_status_mib(proc.pid, "VmHWM"),
                )
                results["ran_s"] = round(ran)
                results["settled_s"] = SETTLE_S
                results["rss_before_soak_mib"] = rss_start
                results["google_requests"] = len(google.requests)
                results["jobs_metric"] = [
                    line for line in metrics.splitlines() if line.startswith("tts_jobs")
                ][:8]
                return results
            finally:
                stop(proc)


def main() -> None:
    """Run the soak, print the figures and optionally write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--long-articles",
        type=int,
        default=0,
        help="first, this many listeners at once of new 100,000-character articles "
        "(with --minutes 0: only that)",
    )
    parser.add_argument(
        "--malloc-arena-max",
        type=int,
        default=None,
        help="run the service with glibc's MALLOC_ARENA_MAX (to compare its memory)",
    )
    args = parser.parse_args()
    extra = {"MALLOC_ARENA_MAX": str(args.malloc_arena_max)} if args.malloc_arena_max else {}
    results = bench(args.minutes, extra, args.long_articles)
    results["service_env"] = extra
    print(json.dumps(results, indent=2, ensure_ascii=False))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
