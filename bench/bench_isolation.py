"""Measure the text workers (tts_service/isolation.py): their cost, and what they protect.

* start-up: a two-worker pool started and warmed (what the served app adds to its start);
* round trip: extract + normalise + chunk of the seed article and of 100,000 characters,
  in the worker pool against in the caller's process (median of a few runs);
* replacement: from a task killed at its deadline to a fresh worker idle again;
* ``/healthz`` while a hostile text is processed: the slowest answer, with the text work
  in-process (as before the pool) and in the pool. The hostile text is the extractor's
  worst known input at a size that takes seconds, not minutes, in-process ("cập nhật lúc "
  repeated ``--repeats`` times).

    .venv/bin/python bench/bench_isolation.py [--json bench/results/isolation.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import live_server, text_tone  # noqa: E402
from tts_service import textwork  # noqa: E402
from tts_service.api.main import create_app, text_pool  # noqa: E402
from tts_service.cache import AudioCache  # noqa: E402
from tts_service.errors import TextTooComplex  # noqa: E402
from tts_service.isolation import InProcess, Isolation, WorkerPool  # noqa: E402
from tts_service.settings import Settings  # noqa: E402
from tts_service.synthesis import SpeechService  # noqa: E402
from tts_service.testing import FakeEngine  # noqa: E402
from tts_service.text.lexicon import Lexicon  # noqa: E402

SEED = ROOT / "tests" / "fixtures" / "seed-article.txt"


def median_s(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def prepare(isolation: Isolation, text: str) -> None:
    lexicon = textwork.LexiconState.of(Lexicon.builtin())
    article = isolation.call(textwork.extract, text, None, None, None)
    document = isolation.call(textwork.normalize_text, article.text, lexicon)
    isolation.call(textwork.chunk, document, 200)


def healthz_during(isolation: Isolation, hostile: str, deadline_s: float) -> dict[str, float]:
    """The slowest /healthz answer while ``hostile`` is read, and how long that took."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(cache_dir=Path(tmp), engine=("espeak",), text_deadline_s=deadline_s)
        service = SpeechService(
            settings,
            engines={"espeak": FakeEngine(text_tone, name="espeak")},
            cache=AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes),
            isolation=isolation,
        )
        service.warm_up()
        with (
            live_server(create_app(settings, service=service)) as base,
            httpx.Client(base_url=base, timeout=600) as client,
            ThreadPoolExecutor(1) as runner,
        ):
            started = time.monotonic()
            answer = runner.submit(client.post, "/v1/read", json={"text": hostile})
            slowest = 0.0
            while not answer.done():
                asked = time.monotonic()
                client.get("/healthz")
                slowest = max(slowest, time.monotonic() - asked)
            status = answer.result().status_code
            took = time.monotonic() - started
        service.close()
    return {"healthz_max_s": round(slowest, 3), "request_s": round(took, 2), "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=22)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    seed = SEED.read_text(encoding="utf-8")
    big = ((seed.strip() + "\n\n") * (100_000 // (len(seed) + 2)))[:100_000]
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d")}
    results["load_average_1m"] = round(os.getloadavg()[0], 1)  # a shared machine inflates

    started = time.perf_counter()
    pool = WorkerPool(2, deadline_s=10.0, warm=textwork.warm, preload=textwork.PRELOAD)
    pool.start()
    results["pool_start_s"] = round(time.perf_counter() - started, 2)

    here = InProcess()
    prepare(here, seed)
    for name, text in (("seed", seed), ("100k", big)):
        results[f"{name}_in_process_s"] = round(
            median_s(lambda t=text: prepare(here, t), args.runs), 3
        )
        results[f"{name}_pool_s"] = round(median_s(lambda t=text: prepare(pool, t), args.runs), 3)
    pool.close()

    quick = WorkerPool(1, deadline_s=0.5, warm=textwork.warm, preload=textwork.PRELOAD)
    quick.start()
    try:
        quick.call(textwork.extract, "cập nhật lúc " * 30, None, None, None)
    except TextTooComplex:
        killed = time.perf_counter()
    worker = quick._idle.get(timeout=30)  # the replacement, once warm
    results["replacement_s"] = round(time.perf_counter() - killed, 3)
    quick._idle.put(worker)
    quick.close()

    hostile = "cập nhật lúc " * args.repeats
    results["hostile_repeats"] = args.repeats
    results["in_process"] = healthz_during(InProcess(), hostile, 10.0)
    pool_settings = Settings(text_deadline_s=2.0)
    results["pool_deadline_2s"] = healthz_during(text_pool(pool_settings), hostile, 2.0)

    sys.stdout.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
