"""Benchmark the editors' API: back-catalogue throughput, edits, no-op saves and playback.

Every figure comes from the real service (uvicorn in a subprocess, ``TTS_ENGINE=gtts,espeak``,
a fresh temporary cache and registry per run) reading from the loopback fake of Google
(``tts_service/testing/fake_google.py``) with ``--latency`` seconds per request:

1. **Back catalogue.** ``--articles`` distinct articles are PUT at once and every job is
   waited for (``GET /v1/jobs/{id}?wait=30``); articles a minute and chunks a second, for
   ``TTS_WORKERS`` 1, 2 and 4, under the default Google rate limit (300 requests a minute,
   burst 60) and with it off (``TTS_GTTS_REQUESTS_PER_MINUTE=0``, the ceiling). The
   articles are built from the seed article and the saved portal pages so that no two
   share a chunk (checked: the fake must see one request per chunk, none reused). Five
   seconds in, a listener reads a new three-sentence article through ``POST /v1/read``:
   how long its first audio takes while the catalogue is being made.
2. **An edit.** The seed article is registered, then one paragraph is edited (a typo
   fixed: three words); the edit's job counts, the requests Google got for it, and the
   time from ``PUT`` to ready of both versions.
3. **Cheap paths.** A ``PUT`` of the unchanged article (a no-op, answered 200), and the time
   to first byte of ``GET /v1/articles/{id}/audio`` (pre-generated, from disk), compared with
   the anonymous ``GET /v1/audio/{key}.mp3`` of the same file and with a ``304`` revalidation.

    .venv/bin/python bench/bench_registry.py [--articles 30] [--json bench/results/registry.json]

Every request goes to 127.0.0.1; every wait is bounded, and whatever the script starts it
stops. About four and a half minutes, three of them the rate-limited runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_load import HOST, free_port, log, start_service, stop  # noqa: E402
from tts_service.extract import extract_html, extract_plain  # noqa: E402
from tts_service.synthesis import reserved_for_listeners  # noqa: E402
from tts_service.testing.fake_google import FakeGoogle, ReceivedRequest  # noqa: E402
from tts_service.text.chunker import chunk_document  # noqa: E402
from tts_service.text.pipeline import normalize  # noqa: E402

SEED = ROOT.parent / "shared" / "fixtures" / "seed-article.txt"
if not SEED.exists():
    SEED = ROOT / "tests" / "fixtures" / "seed-article.txt"
PAGES = ROOT / "tests" / "fixtures" / "pages"

KEY = "bench-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
GTTS_LIMIT = 100  # gTTS's characters per request: the chunker's limit for this chain
CONCURRENCY = 8  # TTS_GTTS_CONCURRENCY's default, left as it is
# Of those, what registry jobs may use: the rest is kept for listeners (tts_service.lanes).
BACKGROUND_SLOTS = CONCURRENCY - reserved_for_listeners(CONCURRENCY)
DEFAULT_RPM = 300  # TTS_GTTS_REQUESTS_PER_MINUTE's default
DEFAULT_BURST = 60  # TTS_GTTS_BURST's default
WAIT_S = 30  # the long poll's ?wait=
# The edit of part 2: a typo fixed in one paragraph ("phòng trao" → "phong trào"), three
# words changed in one sentence of the seed article's body.
EDIT = ("các phòng trao thi đua đến toàn thể", "các phong trào thi đua tới toàn thể")
# A listener's new article, read through POST /v1/read while the catalogue is being made
# (and once on an idle service): three one-chunk sentences, told apart by their first words.
LISTENER_MARK = "Tin nóng"
LISTENER = (
    f"{LISTENER_MARK}: mưa lớn gây ngập nhiều tuyến phố ở Hà Nội chiều nay. "
    f"{LISTENER_MARK}: cầu Long Biên tạm dừng cho xe qua đến 18 giờ. "
    f"{LISTENER_MARK}: người dân nên tránh các tuyến đường bị ngập."
)
LISTENER_AFTER_S = 5.0  # seconds after the catalogue's PUTs


# -- the articles ------------------------------------------------------------------------


def pool_paragraphs() -> list[list[str]]:
    """Paragraphs (lists of written sentences) of the seed article and the saved pages.

    The pages are read as the service reads them (``extract_html``, with the page's
    selector if it has one). A sentence that occurs twice in the fixtures is kept once.
    """
    sources = [extract_plain(SEED.read_text(encoding="utf-8")).text]
    for page in sorted(PAGES.glob("*.html")):
        selector = page.with_suffix(".selector")
        sources.append(
            extract_html(
                page.read_text(encoding="utf-8"),
                selector=selector.read_text().strip() if selector.exists() else None,
            ).text
        )
    paragraphs: list[list[str]] = []
    seen: set[str] = set()
    for text in sources:
        current = None
        for sentence in normalize(text).sentences:
            written = text[sentence.start : sentence.end].strip()
            if not written or written in seen:
                continue
            seen.add(written)
            if sentence.paragraph != current:
                paragraphs.append([])
                current = sentence.paragraph
            paragraphs[-1].append(written)
    return paragraphs


def build_catalogue(n: int, chunks_each: int) -> list[dict[str, Any]]:
    """``n`` articles of about ``chunks_each`` chunks, no chunk shared by two of them.

    Article *k* takes the fixtures' sentences from its own starting point on, each led by
    its number ("Tin 7, …"), and skips a sentence any of whose chunks (as the service's
    chunker cuts it) an earlier article already has: a long sentence's later chunks carry
    no number, so it is read by one article only. The fixtures hold 73 distinct sentences
    (135 chunks), far less than a catalogue; numbering is what makes 30 articles distinct.
    """
    flat = [(p, s) for p, para in enumerate(pool_paragraphs()) for s in para]
    used: set[str] = set()
    articles = []
    for k in range(n):
        number = k + 1
        start = (k * 7) % len(flat)
        picked: list[tuple[int, str]] = []
        planned = 0
        for i in range(len(flat)):
            paragraph, sentence = flat[(start + i) % len(flat)]
            variant = f"Tin {number}, {sentence}"
            texts = [c.text for c in chunk_document(normalize(variant), GTTS_LIMIT)]
            if not texts or used.intersection(texts) or len(set(texts)) < len(texts):
                continue
            used.update(texts)
            picked.append((paragraph, variant))
            planned += len(texts)
            if planned >= chunks_each:
                break
        blocks: list[list[str]] = []
        last = None
        for paragraph, variant in picked:
            if paragraph != last:
                blocks.append([])
                last = paragraph
            blocks[-1].append(variant)
        text = "\n\n".join(" ".join(block) for block in blocks)
        articles.append(
            {
                "id": f"bench-{number:03d}",
                "title": f"Bản tin số {number}",
                "text": text,
                "planned_chunks": planned,
            }
        )
    return articles


# -- the service -------------------------------------------------------------------------


@dataclass
class Running:
    """A started service and the fake Google it reads from."""

    base: str
    proc: subprocess.Popen[bytes]
    fake: FakeGoogle
    log_path: Path


@contextmanager
def service(env: dict[str, str], latency: float) -> Iterator[Running]:
    """A fake Google and the service on a fresh cache and registry; both stopped after."""
    with (
        FakeGoogle(latency=latency) as fake,
        tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp,
    ):
        port = free_port()
        log_path = Path(tmp) / "service.log"
        settings = {
            "TTS_ENGINE": "gtts,espeak",
            "TTS_GTTS_BASE_URL": fake.base_url,
            "TTS_CACHE_DIR": str(Path(tmp) / "cache"),
            "TTS_API_KEYS": json.dumps([{"name": "bench", "key": KEY}]),
            "TTS_LOG_LEVEL": "warning",
            **env,
        }
        with log_path.open("wb") as sink:
            proc = start_service(settings, port, log_to=sink)
            try:
                yield Running(f"http://{HOST}:{port}", proc, fake, log_path)
            finally:
                stop(proc)


def log_problems(path: Path) -> list[str]:
    """The service's warning and error lines (it logs at ``warning``): none is expected."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line[:300] for line in lines if line.strip()]


def client(base: str, connections: int = 16) -> httpx.Client:
    """A keep-alive client with the API key and room for ``connections`` at once."""
    return httpx.Client(
        base_url=base,
        headers=AUTH,
        timeout=httpx.Timeout(WAIT_S + 30.0),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def put(http: httpx.Client, article_id: str, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    """PUT an article; the answer and how long it took."""
    t0 = time.perf_counter()
    answer = http.put(f"/v1/articles/{article_id}", json=body)
    return answer, time.perf_counter() - t0


def wait_job(http: httpx.Client, job_id: int, timeout: float) -> tuple[dict[str, Any], float]:
    """Long-poll a job until it ends; the job and the wall-clock time its end was seen."""
    deadline = time.monotonic() + timeout
    while True:
        answer = http.get(f"/v1/jobs/{job_id}", params={"wait": WAIT_S}).raise_for_status()
        job: dict[str, Any] = answer.json()
        if job["state"] not in ("queued", "running"):
            return job, time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} still {job['state']} after {timeout:.0f} s")


# -- figures -----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def latency_ms(seconds: list[float]) -> dict[str, float]:
    """p50, p99 and max of a list of durations, in milliseconds."""
    return {
        "n": len(seconds),
        "p50_ms": pct(seconds, 50) * 1000,
        "p99_ms": pct(seconds, 99) * 1000,
        "max_ms": max(seconds) * 1000 if seconds else float("nan"),
    }


def max_overlap(spans: list[tuple[float, float]]) -> int:
    """The most intervals open at one moment."""
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    best = now = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


def busy_seconds(spans: list[tuple[float, float]]) -> float:
    """Length of the union of intervals: time with at least one Google request in flight."""
    total = 0.0
    end = float("-inf")
    start = float("-inf")
    for a, b in sorted(spans):
        if a > end:
            total += max(0.0, end - start)
            start, end = a, b
        else:
            end = max(end, b)
    return total + max(0.0, end - start)


def google_figures(
    received: list[ReceivedRequest], *, to_wall: Callable[[float], float], burst: int | None
) -> dict[str, Any]:
    """What the fake saw: requests, their rate (after the burst, if limited), concurrency."""
    done = [r for r in received if r.answered_at is not None]
    if not done:
        return {"requests": len(received)}
    first = min(r.received_at for r in received)
    last = max(r.answered_at for r in done if r.answered_at is not None)
    spans = [(r.received_at, r.answered_at) for r in done if r.answered_at is not None]
    window = last - first
    arrivals = sorted(r.received_at for r in received)
    figures: dict[str, Any] = {
        "requests": len(received),
        "answered": len(done),
        "mean_chars": sum(len(r.text) for r in received) / len(received),
        "first_request_wall": to_wall(first),
        "last_answer_wall": to_wall(last),
        "window_s": window,
        "requests_per_s": len(received) / window if window > 0 else float("nan"),
        "mean_in_flight": sum(b - a for a, b in spans) / window if window > 0 else 0.0,
        "max_in_flight": max_overlap(spans),
        "idle_s": window - busy_seconds(spans),
    }
    if burst is not None and len(arrivals) > burst + 10:
        # After the bucket's burst the limiter hands out a token every 60/rpm seconds.
        steady = arrivals[burst:]
        figures["requests_per_s_after_burst"] = (len(steady) - 1) / (steady[-1] - steady[0])
        figures["burst_spent_s"] = arrivals[burst] - first
    return figures


def limiting_factor(run: dict[str, Any], latency: float) -> str:
    """Which of the rate limit, the background share of gTTS's threads or the workers held
    the figure down."""
    google = run["google"]
    rpm = run["requests_per_minute"]
    ceiling = BACKGROUND_SLOTS / latency
    if rpm and google.get("requests_per_s_after_burst", 0.0) >= 0.9 * rpm / 60:
        return (
            f"the gTTS rate limit: {rpm} requests/min = {rpm / 60:g}/s after the "
            f"{DEFAULT_BURST}-request burst (Google's {CONCURRENCY} slots were "
            f"{google['mean_in_flight'] / CONCURRENCY:.0%} used)"
        )
    if google["mean_in_flight"] >= 0.85 * BACKGROUND_SLOTS:
        return (
            f"the background share of gtts_concurrency: {BACKGROUND_SLOTS} of {CONCURRENCY} "
            f"requests in flight x {latency * 1000:.0f} ms = {ceiling:.0f} requests/s "
            "(the rest are kept for listeners)"
        )
    used = google["mean_in_flight"] / BACKGROUND_SLOTS
    return (
        f"the workers: the {BACKGROUND_SLOTS} background slots were {used:.0%} used "
        f"({google['idle_s']:.1f} s with none in flight); an article's tail of fewer "
        f"than {BACKGROUND_SLOTS} chunks, and its assembly and storage, leave slots empty"
    )


def listen(base: str) -> dict[str, Any]:
    """Read the listener's article as the button does: POST, then stream the audio."""
    with httpx.Client(base_url=base, timeout=120) as http:
        t0 = time.perf_counter()
        info = http.post("/v1/read", json={"text": LISTENER}).raise_for_status().json()
        first = None
        size = 0
        with http.stream("GET", info["audio_url"]) as stream:
            for chunk in stream.iter_bytes():
                # The ID3 tag comes first; audio starts with the first MPEG frame.
                if first is None and size + len(chunk) > 200:
                    first = time.perf_counter() - t0
                size += len(chunk)
        total = time.perf_counter() - t0
        engine = http.get(info["audio_url"]).headers.get("x-tts-engine", info["engine"])
    return {
        "first_audio_s": first if first is not None else total,
        "whole_s": total,
        "bytes": size,
        "engine": engine,
    }


# -- 1. the back catalogue -----------------------------------------------------------------


def bench_catalogue(
    articles: list[dict[str, Any]], *, workers: int, rpm: int, latency: float
) -> dict[str, Any]:
    """PUT every article at once, wait for every job; throughput and what limited it."""
    env = {"TTS_WORKERS": str(workers), "TTS_GTTS_REQUESTS_PER_MINUTE": str(rpm)}
    with service(env, latency) as svc:
        n = len(articles)
        with client(svc.base, n + 8) as http, ThreadPoolExecutor(n) as pool:
            barrier = threading.Barrier(n, timeout=30)

            def send(article: dict[str, Any]) -> tuple[httpx.Response, float]:
                barrier.wait()
                body = {"title": article["title"], "text": article["text"]}
                return put(http, article["id"], body)

            wall0, mono0 = time.time(), time.monotonic()
            puts = list(pool.map(send, articles))
            for answer, _ in puts:
                if answer.status_code != 202:
                    raise RuntimeError(f"PUT answered {answer.status_code}: {answer.text}")
            job_ids = [answer.json()["job"]["id"] for answer, _ in puts]
            listener: dict[str, Any] = {}

            def probe() -> None:
                time.sleep(max(0.0, wall0 + LISTENER_AFTER_S - time.time()))  # a fixed moment
                started = time.time() - wall0
                listener.update(listen(svc.base), started_s=started)

            prober = threading.Thread(target=probe, name="listener")
            prober.start()
            ended = list(pool.map(lambda j: wait_job(http, j, 600), job_ids))
            prober.join(180)
            records = [http.get(f"/v1/articles/{a['id']}").json() for a in articles]
        # The listener's requests are its own, not the catalogue's.
        everything = svc.fake.received
        received = [r for r in everything if LISTENER_MARK not in r.text]
        heard = [r.received_at for r in everything if LISTENER_MARK in r.text]
        if listener and heard:
            # Catalogue requests Google got between the listener's POST and its first chunk:
            # the chunks that were queued ahead of it.
            posted = mono0 + listener["started_s"]
            listener["first_request_after_s"] = min(heard) - posted
            listener["catalogue_requests_ahead"] = sum(
                1 for r in received if posted <= r.received_at < min(heard)
            )
        google = google_figures(
            received,
            to_wall=lambda m: wall0 + (m - mono0),
            burst=DEFAULT_BURST if rpm else None,
        )
        problems = log_problems(svc.log_path)
    jobs = [job for job, _ in ended]
    total = sum(j["chunks"]["total"] for j in jobs if j["chunks"])
    reused = sum(j["chunks"]["reused"] for j in jobs if j["chunks"])
    makespan = max(j["finished"] for j in jobs) - wall0
    run: dict[str, Any] = {
        "workers": workers,
        "requests_per_minute": rpm,
        "limited": bool(rpm),
        "articles": n,
        "states": dict(Counter(j["state"] for j in jobs)),
        "engines": dict(Counter(str(r["engine"]) for r in records)),
        "chunks_total": total,
        "chunks_reused": reused,
        "chunks_synthesised": total - reused,
        "seconds": makespan,
        "seconds_seen_by_client": max(t for _, t in ended) - wall0,
        "first_ready_s": min(j["finished"] for j in jobs) - wall0,
        "articles_per_min": n / makespan * 60,
        "chunks_per_s": total / makespan,
        "put_latency": latency_ms([t for _, t in puts]),
        "job_run_s": {
            "median": statistics.median(j["finished"] - j["started"] for j in jobs),
            "max": max(j["finished"] - j["started"] for j in jobs),
        },
        "max_jobs_running": max_overlap([(j["started"], j["finished"]) for j in jobs]),
        "after_last_answer_s": max(j["finished"] for j in jobs) - google["last_answer_wall"],
        # A long poll that answered well after its job ended missed the job's wake-up.
        "poll_lag_max_s": max(t - j["finished"] for j, t in ended),
        "google": google,
        "listener_during": listener,
        "service_log": problems[:10],
    }
    if rpm:
        # What a long run tends to: the limiter's rate divided by the chunks an article needs.
        run["sustained_articles_per_min"] = rpm / (total / n)
    planned = sum(a["planned_chunks"] for a in articles)
    run["one_request_per_chunk"] = google["requests"] == total == planned and reused == 0
    if not run["one_request_per_chunk"]:
        log(
            f"  articles shared chunks: {planned} planned, {total} total, {reused} reused, "
            f"{google['requests']} Google requests"
        )
    run["limited_by"] = limiting_factor(run, latency)
    return run


# -- 2. an edit, 3. cheap paths ------------------------------------------------------------


def time_get(
    http: httpx.Client, path: str, headers: dict[str, str] | None = None
) -> tuple[float, float, int, int]:
    """Stream a GET: seconds to the first body byte (or headers) and to the end; status, bytes."""
    t0 = time.perf_counter()
    with http.stream("GET", path, headers=headers) as answer:
        t_headers = time.perf_counter() - t0
        first = None
        size = 0
        for chunk in answer.iter_raw():
            if first is None:
                first = time.perf_counter() - t0
            size += len(chunk)
        total = time.perf_counter() - t0
    return (first if first is not None else t_headers), total, answer.status_code, size


def bench_edit_and_reads(latency: float, reads: int) -> dict[str, Any]:
    """Register the seed article, edit one paragraph, then time no-op PUTs and audio GETs."""
    original = SEED.read_text(encoding="utf-8")
    if original.count(EDIT[0]) != 1:
        raise RuntimeError("the seed article changed: the edit's words are not in it once")
    edited = original.replace(*EDIT)
    with service({}, latency) as svc, client(svc.base) as http:
        versions = []
        for label, text in (("first", original), ("edit", edited)):
            before = len(svc.fake.received)
            t0 = time.time()
            answer, put_s = put(http, "seed", {"text": text})
            if answer.status_code != 202:
                raise RuntimeError(f"PUT answered {answer.status_code}: {answer.text}")
            job, seen = wait_job(http, answer.json()["job"]["id"], 120)
            sent = svc.fake.received[before:]
            versions.append(
                {
                    "version": label,
                    "state": job["state"],
                    "chunks": job["chunks"],
                    "google_requests": len(sent),
                    "google_texts": [r.text for r in sent] if label == "edit" else None,
                    "put_ms": put_s * 1000,
                    "put_to_ready_s": seen - t0,
                    "job_created_to_finished_s": job["finished"] - job["created"],
                }
            )
        record = http.get("/v1/articles/seed").json()
        if record["status"] != "ready" or record["stale"]:
            raise RuntimeError(f"the edited article is not ready: {record}")

        # 3. No-op saves: the same body again, one client after another, then 8 at once.
        body = {"text": edited}
        statuses: Counter[int] = Counter()
        sequential = []
        for _ in range(reads):
            answer, seconds = put(http, "seed", body)
            statuses[answer.status_code] += 1
            sequential.append(seconds)
        requests_after_noops = len(svc.fake.received)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            concurrent = list(pool.map(lambda _: put(http, "seed", body), range(reads)))
        concurrent_s = time.perf_counter() - t0
        statuses.update(a.status_code for a, _ in concurrent)
        new_requests = len(svc.fake.received) - requests_after_noops

        audio = httpx.URL(record["audio_url"]).path
        key = http.get(audio).headers["etag"].strip('"')
        gets: dict[str, Any] = {}
        for name, path, headers in (
            ("article_audio", audio, None),
            ("read_path_audio", f"/v1/audio/{key}.mp3", None),
            ("article_audio_304", audio, {"If-None-Match": f'"{key}"'}),
        ):
            timed = [time_get(http, path, headers) for _ in range(reads)]
            gets[name] = {
                "path": path,
                "statuses": dict(Counter(t[2] for t in timed)),
                "bytes": timed[0][3],
                "ttfb": latency_ms([t[0] for t in timed]),
                "whole": latency_ms([t[1] for t in timed]),
            }
        listener = listen(svc.base)
        problems = log_problems(svc.log_path)
    first, edit = versions
    return {
        "article_chars": len(extract_plain(original).text),
        "edit": {"from": EDIT[0], "to": EDIT[1]},
        "versions": versions,
        "edit_speedup": first["put_to_ready_s"] / edit["put_to_ready_s"],
        "noop_put": {
            "statuses": dict(statuses),
            "google_requests": new_requests,
            "sequential": latency_ms(sequential),
            "concurrent_8": latency_ms([s for _, s in concurrent]),
            "concurrent_8_per_s": reads / concurrent_s,
            "sequential_per_s": reads / sum(sequential),
        },
        "listener_idle": listener,
        "audio": gets,
        "service_log": problems[:10],
    }


# -- report --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def summary(results: dict[str, Any]) -> str:
    """The figures, readably."""
    out = [
        f"Registry bench on {results['machine']['cores']} cores, fake Google at "
        f"{results['latency_s'] * 1000:.0f} ms a request, gtts_concurrency {CONCURRENCY}.",
        "",
        f"1. Back catalogue: {results['catalogue']['articles']} articles "
        f"({results['catalogue']['chunks']} chunks, "
        f"{results['catalogue']['mean_chars']:.0f} characters each on average), PUT at once:",
    ]
    for run in results["catalogue"]["runs"]:
        label = (
            f"rate limit {run['requests_per_minute']}/min (DEFAULT)"
            if run["limited"]
            else "rate limit OFF (CEILING)"
        )
        google = run["google"]
        out.append(
            f"   workers={run['workers']}  {label:32} {run['seconds']:6.1f} s  "
            f"{run['articles_per_min']:6.1f} articles/min  {run['chunks_per_s']:5.1f} chunks/s  "
            f"Google {google['requests']} req, {google['requests_per_s']:.1f}/s, "
            f"{google['mean_in_flight']:.1f} in flight; jobs {run['states']}, "
            f"engines {run['engines']}, reused {run['chunks_reused']}"
        )
        out.append(f"      limited by {run['limited_by']}")
        heard = run["listener_during"]
        if heard:
            out.append(
                f"      a listener's new 3-sentence article, POSTed {heard['started_s']:.0f} s in: "
                f"first audio {heard['first_audio_s']:.2f} s, whole {heard['whole_s']:.2f} s "
                f"({heard['engine']}); {heard.get('catalogue_requests_ahead', '?')} catalogue "
                "requests went to Google before its first"
            )
        if run["limited"]:
            out.append(
                f"      sustained (after the burst): {google['requests_per_s_after_burst']:.2f} "
                f"requests/s -> {run['sustained_articles_per_min']:.1f} articles/min of this size"
            )
    edit = results["edit"]
    first, second = edit["versions"]
    out += [
        "",
        f"2. Edit of the seed article ({edit['article_chars']} characters): "
        f"'{edit['edit']['from']}' -> '{edit['edit']['to']}'",
        f"   first version: {first['chunks']['total']} chunks, {first['google_requests']} "
        f"Google requests, PUT to ready {first['put_to_ready_s']:.2f} s",
        f"   the edit:      total {second['chunks']['total']}, reused {second['chunks']['reused']}"
        f", synthesised {second['chunks']['synthesised']}; {second['google_requests']} Google "
        f"requests; PUT to ready {second['put_to_ready_s']:.2f} s "
        f"({edit['edit_speedup']:.1f}x faster)",
        "",
        "3. Cheap paths (p50 / p99):",
    ]
    noop = edit["noop_put"]
    for name, label in (("sequential", "one client"), ("concurrent_8", "8 clients")):
        figures = noop[name]
        out.append(
            f"   no-op PUT, {label:11} {figures['p50_ms']:6.2f} / {figures['p99_ms']:6.2f} ms, "
            f"{noop[name + '_per_s']:.0f}/s"
        )
    out.append(
        f"   (every no-op PUT answered: {noop['statuses']}; Google requests they caused: "
        f"{noop['google_requests']})"
    )
    for name, label in (
        ("article_audio", "GET /v1/articles/{id}/audio"),
        ("read_path_audio", "GET /v1/audio/{key}.mp3"),
        ("article_audio_304", "GET .../audio, If-None-Match"),
    ):
        figures = edit["audio"][name]
        out.append(
            f"   {label:30} first byte {figures['ttfb']['p50_ms']:6.2f} / "
            f"{figures['ttfb']['p99_ms']:6.2f} ms, whole {figures['whole']['p50_ms']:6.2f} / "
            f"{figures['whole']['p99_ms']:6.2f} ms ({figures['bytes']:,} bytes, "
            f"{figures['statuses']})"
        )
    idle = edit["listener_idle"]
    out.append(
        f"   the listener's article on an idle service: first audio {idle['first_audio_s']:.2f} s,"
        f" whole {idle['whole_s']:.2f} s ({idle['engine']})"
    )
    return "\n".join(out)


def main() -> None:
    """Run the three parts, print the summary and optionally write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--chunks-each", type=int, default=11, help="chunks an article needs")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--reads", type=int, default=300, help="requests per cheap-path figure")
    parser.add_argument("--skip-limited", action="store_true", help="only the ceiling runs")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    started = time.monotonic()
    articles = build_catalogue(args.articles, args.chunks_each)
    workers = [int(w) for w in args.workers.split(",")]
    runs = []
    for rpm in (0,) if args.skip_limited else (0, DEFAULT_RPM):
        for w in workers:
            log(f"catalogue: {len(articles)} articles, workers={w}, requests/min={rpm or 'off'}")
            runs.append(bench_catalogue(articles, workers=w, rpm=rpm, latency=args.latency))
            log(f"  {runs[-1]['seconds']:.1f} s, limited by {runs[-1]['limited_by']}")
    log("edit and cheap paths")
    edit = bench_edit_and_reads(args.latency, args.reads)
    results = {
        "machine": machine(),
        "latency_s": args.latency,
        "settings": {
            "TTS_ENGINE": "gtts,espeak",
            "TTS_GTTS_CONCURRENCY": CONCURRENCY,
            "TTS_GTTS_BURST": DEFAULT_BURST,
            "TTS_GTTS_REQUESTS_PER_MINUTE": [DEFAULT_RPM, 0],
            "TTS_WORKERS": workers,
        },
        "catalogue": {
            "articles": len(articles),
            "chunks": sum(a["planned_chunks"] for a in articles),
            "mean_chars": statistics.mean(len(a["text"]) for a in articles),
            "runs": runs,
        },
        "edit": edit,
        "bench_seconds": time.monotonic() - started,
    }
    print(summary(results))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
