"""Benchmark a cache hit on the default SQLite index: what one cached read costs.

A cache of 300 articles and 3,000 chunks, each with an alias (the request's key → its
article). A cached ``/v1/read`` looks the alias up and reads the article (which records the
access: in memory, written in batches of 64); a cached chunk read (``get_chunk``) reads a
file and records the access. Measured in-process, one call at a time, cycling over the keys
so the access refreshes are real writes (one per key a minute, batched):

- ``alias + article``: ``get_alias`` then ``get_article`` (a hit's index work and files);
- ``get_alias``: the index read alone;
- ``get_chunk``: a stored chunk's bytes and its access;
- ``record``: for scale, the index write of a store (upsert + cap check: ``_record``),
  without the file's fsync that dominates a real store.

``--code DIR`` imports ``tts_service`` from another checkout, to compare code versions on
the same machine in the same minute (``git archive <rev> tts_service | tar -x -C DIR``)::

    .venv/bin/python bench/bench_cache_hit.py [--code DIR] [--json bench/results/cache_hit.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

ARTICLES = 300
CHUNKS = 3000


def timed(step: Callable[[int], object], calls: int) -> dict[str, float]:
    """Median and 95th percentile (µs) of ``calls`` calls, and CPU µs per call."""
    times = []
    cpu = time.process_time()
    for n in range(calls):
        started = time.perf_counter()
        step(n)
        times.append((time.perf_counter() - started) * 1e6)
    cpu = (time.process_time() - cpu) * 1e6 / calls
    times.sort()
    return {
        "median_us": statistics.median(times),
        "p95_us": times[int(len(times) * 0.95)],
        "cpu_us": cpu,
    }


def measure(calls: int) -> dict[str, Any]:
    from tts_service.cache import AudioCache

    with tempfile.TemporaryDirectory() as tmp:
        cache = AudioCache(Path(tmp) / "cache", max_bytes=10**12)
        articles = [f"a{n:039x}" for n in range(ARTICLES)]
        chunks = [f"c{n:039x}" for n in range(CHUNKS)]
        for key in articles:
            cache.put_article(key, mp3=b"\xff\xf3" * 20_000, vtt="WEBVTT\n", meta={"k": key})
            cache.set_alias("b" + key[1:], key)
        for key in chunks:
            cache.put_chunk(key, b"\xff\xf3" * 2_500)

        def hit(n: int) -> None:
            target = cache.get_alias("b" + articles[n % ARTICLES][1:])
            assert target is not None and cache.get_article(target) is not None

        def alias(n: int) -> None:
            assert cache.get_alias("b" + articles[n % ARTICLES][1:]) is not None

        def chunk(n: int) -> None:
            assert cache.get_chunk(chunks[n % CHUNKS]) is not None

        def record(n: int) -> None:
            cache._record("chunk", f"d{n:039x}", 5000)

        results = {
            "alias + article": timed(hit, calls),
            "get_alias": timed(alias, calls),
            "get_chunk": timed(chunk, calls),
            "record": timed(record, calls // 4),
        }
        cache.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    results = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "code": str(args.code),
        "operations": measure(args.calls),
    }
    for name, figures in results["operations"].items():
        print(  # noqa: T201
            f"{name:<16} median {figures['median_us']:7.1f} µs  p95 {figures['p95_us']:7.1f} µs"
            f"  cpu {figures['cpu_us']:7.1f} µs"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
