"""Benchmark the audio cache's index at scale: what a store and a metrics scrape cost.

For 10,000, 100,000 and 300,000 entries (a tenth of them pinned articles), an open cache's
index is filled with rows straight through another SQLite connection (the triggers keep the
totals, as for real writes; the entries have no files, as the measured steps never open
them, and the cache is not reopened, whose start-up check would drop such rows), then,
in-process:

- ``put_chunk``: one real chunk write (file, fsync, rename, index upsert, cap check);
- the cap check alone (``_evict`` when under the cap) and ``total_bytes`` (read at every
  ``/metrics`` scrape);
- for comparison, the unpinned sum the cache ran on every store before the totals table
  (``SELECT SUM(size) … WHERE NOT pinned``), on the same index.

    .venv/bin/python bench/bench_cache_index.py [--json bench/results/cache_index.json]

About 30 seconds; everything is written under a temporary directory and removed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tts_service.cache import AudioCache  # noqa: E402

SIZES = (10_000, 100_000, 300_000)
OLD_SUM = (
    "SELECT COALESCE(SUM(size), 0) FROM entries WHERE NOT (kind = 'article' AND "
    "EXISTS (SELECT 1 FROM pins WHERE pins.key = entries.key))"
)


def fill(root: Path, entries: int) -> None:
    """Index rows for ``entries`` entries, a tenth of them pinned articles."""
    db = sqlite3.connect(root / "index.sqlite3")
    now = time.time()
    rows = [
        (f"{n:040x}", "article" if n % 10 == 0 else "chunk", 4000 + n % 5000, now - n)
        for n in range(entries)
    ]
    db.executemany("INSERT INTO entries (key, kind, size, last_access) VALUES (?, ?, ?, ?)", rows)
    db.executemany(
        "INSERT INTO pins (key, owner) VALUES (?, 'bench')",
        [(row[0],) for row in rows if row[1] == "article"],
    )
    db.commit()
    db.close()


def timed(step: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median and worst milliseconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(times), "max_ms": max(times)}


def measure(entries: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cache"
        cache = AudioCache(root, max_bytes=10**12)
        fill(root, entries)
        counter = iter(range(10**9))
        data = b"\xff\xf3" + b"\x00" * 3000
        put = timed(lambda: cache.put_chunk(f"{10**12 + next(counter):040x}", data), repeat)
        check = timed(cache._evict, repeat)
        total = timed(lambda: cache.total_bytes, repeat)
        raw = sqlite3.connect(root / "index.sqlite3")
        old = timed(lambda: raw.execute(OLD_SUM).fetchone(), max(3, repeat // 10))
        raw.close()
        cache.close()
    return {
        "entries": entries,
        "put_chunk": put,
        "cap_check": check,
        "total_bytes": total,
        "old_unpinned_sum": old,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "runs": [],
    }
    print("entries   put_chunk (median/max)   cap check   total_bytes   old sum, per store")  # noqa: T201
    for entries in SIZES:
        run = measure(entries, args.repeat)
        results["runs"].append(run)
        print(  # noqa: T201
            f"{entries:>7,}  "
            f"{run['put_chunk']['median_ms']:6.2f} / {run['put_chunk']['max_ms']:6.2f} ms     "
            f"{run['cap_check']['median_ms']:6.3f} ms  {run['total_bytes']['median_ms']:6.3f} ms"
            f"     {run['old_unpinned_sum']['median_ms']:6.1f} ms"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
