"""The cache index's running totals, and its batched last-access refreshes.

Every check compares the totals the index keeps (SQLite: triggers; PostgreSQL: the writers'
own transactions) with a fresh sum over the entries, the way the cache used to compute them
on every store. Each test runs on every store and index database (``backend``:
tests/cache_db.py).
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.cache_db import CacheBackend, IndexDB
from tts_service.cache import AudioCache

KIB = 1024


def key(n: int) -> str:
    return f"{n:040x}"


def fresh_sums(backend: CacheBackend | IndexDB, root) -> tuple[int, int]:
    """(all, unpinned) bytes summed over the index's entries, ignoring the totals."""
    [(everything,)] = backend.rows(root, "SELECT COALESCE(SUM(size), 0) FROM entries")
    [(unpinned,)] = backend.rows(
        root,
        "SELECT COALESCE(SUM(size), 0) FROM entries WHERE NOT (kind = 'article' AND "
        "EXISTS (SELECT 1 FROM pins WHERE pins.key = entries.key))",
    )
    return int(everything), int(unpinned)


def kept_totals(backend: CacheBackend | IndexDB, root) -> tuple[int, int]:
    rows = dict(backend.rows(root, "SELECT name, bytes FROM totals"))
    return int(rows["all"]), int(rows["unpinned"])


def article(cache: AudioCache, n: int, size: int) -> None:
    cache.put_article(key(n), mp3=b"a" * size, vtt="WEBVTT\n", meta={"n": n})


def test_the_totals_follow_every_kind_of_change(backend, tmp_path):
    root = tmp_path / "cache"
    cache = backend.cache(root, max_bytes=10**9)
    steps = [
        lambda: cache.put_chunk(key(1), b"c" * 3 * KIB),
        lambda: cache.put_chunk(key(2), b"c" * 5 * KIB),
        lambda: cache.put_chunk(key(1), b"c" * 7 * KIB),  # the same chunk, written again
        lambda: article(cache, 10, 20 * KIB),
        lambda: article(cache, 11, 30 * KIB),
        lambda: cache.pin(key(10), "bai-10"),
        lambda: cache.pin(key(10), "other-owner"),  # a second pin changes nothing
        lambda: cache.pin(key(12), "bai-12"),  # pinned before its audio exists
        lambda: article(cache, 12, 11 * KIB),
        lambda: article(cache, 10, 25 * KIB),  # a pinned article, made again
        lambda: cache.unpin(key(10), "bai-10"),  # still pinned by the other owner
        lambda: cache.unpin(key(12), "bai-12"),  # back into the evictable part
        lambda: cache.remove("chunk", key(2)),
        lambda: cache.remove("article", key(11)),
        lambda: cache.unpin(key(10), "other-owner"),
    ]
    for n, step in enumerate(steps):
        step()
        assert kept_totals(backend, root) == fresh_sums(backend, root), f"after step {n}"
    assert cache.total_bytes == fresh_sums(backend, root)[0] > 0


def test_eviction_keeps_the_totals_and_spares_pinned_articles(backend, tmp_path):
    root = tmp_path / "cache"
    cache = backend.cache(root, max_bytes=100 * KIB)
    cache.pin(key(50), "bai-50")
    article(cache, 50, 80 * KIB)
    for n in range(1, 30):
        cache.put_chunk(key(n), b"c" * 9 * KIB)
        assert kept_totals(backend, root) == fresh_sums(backend, root)
        assert kept_totals(backend, root)[1] <= 100 * KIB
    assert cache.get_article(key(50)) is not None
    assert cache.get_chunk(key(1)) is None and cache.get_chunk(key(29)) is not None


def test_another_process_writing_the_same_cache_keeps_both_views_right(backend, tmp_path):
    root = tmp_path / "cache"
    service = backend.cache(root, max_bytes=10**9)
    batch = backend.cache(root, max_bytes=10**9)  # a `pregenerate` beside the service
    service.put_chunk(key(1), b"c" * 4 * KIB)
    batch.put_chunk(key(2), b"c" * 6 * KIB)
    article(batch, 3, 10 * KIB)
    batch.pin(key(3), "bai-3")
    # The article's size also counts its timings and metadata.
    assert service.total_bytes == batch.total_bytes == fresh_sums(backend, root)[0] > 20 * KIB
    assert kept_totals(backend, root) == fresh_sums(backend, root)
    assert kept_totals(backend, root)[1] == 10 * KIB  # the two chunks; the pinned article is apart


def test_an_index_from_before_the_totals_gets_them_when_opened(sqlite_backend, tmp_path):
    # SQLite only: an index made before the totals (and before the migration runner) is a
    # file on one machine; a PostgreSQL index was always made by the runner.
    backend = sqlite_backend
    root = tmp_path / "cache"
    old = backend.cache(root, max_bytes=10**9)
    old.put_chunk(key(1), b"c" * 4 * KIB)
    article(old, 2, 6 * KIB)
    old.pin(key(2), "bai-2")
    old.close()
    raw = sqlite3.connect(root / "index.sqlite3")
    for trigger in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        raw.execute(f"DROP TRIGGER {trigger[0]}")
    raw.execute("DROP TABLE totals")
    raw.execute("DROP TABLE schema_version")
    raw.commit()
    raw.close()
    reopened = backend.cache(root, max_bytes=10**9)
    assert kept_totals(backend, root) == fresh_sums(backend, root)
    assert kept_totals(backend, root)[1] == 4 * KIB  # the chunk; the pinned article is apart
    reopened.put_chunk(key(3), b"c" * KIB)
    assert kept_totals(backend, root) == fresh_sums(backend, root)


def test_sqlite_totals_hand_edited_are_put_right_when_opened(tmp_path):
    # SQLite only: its triggers can be written around (an older batch, a hand edit); the
    # cache recounts at every start. PostgreSQL's totals move only with the writers.
    backend = IndexDB(None)
    root = tmp_path / "cache"
    cache = backend.cache(root, max_bytes=10**9)
    cache.put_chunk(key(1), b"c" * 4 * KIB)
    cache.close()
    backend.run(root, "UPDATE totals SET bytes = 7")
    backend.cache(root, max_bytes=10**9).close()
    assert kept_totals(backend, root) == fresh_sums(backend, root) == (4 * KIB, 4 * KIB)


def last_access(backend: CacheBackend | IndexDB, root, n: int) -> float:
    [(at,)] = backend.rows(root, "SELECT last_access FROM entries WHERE key = :k", k=key(n))
    return float(at)


def test_reads_refresh_the_order_together_and_close_writes_the_rest(backend, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    cache = backend.cache(root, max_bytes=10**9)
    for n in range(1, 4):
        cache.put_chunk(key(n), b"c" * KIB)
    before = [last_access(backend, root, n) for n in range(1, 4)]
    clock = iter(range(10**6))
    monkeypatch.setattr("tts_service.cache_index.index.time.time", lambda: 2e9 + next(clock))
    for n in range(1, 4):
        assert cache.get_chunk(key(n)) is not None
    # Three refreshes wait to be written together; the index has not seen them yet.
    assert [last_access(backend, root, n) for n in range(1, 4)] == before
    cache.close()
    after = [last_access(backend, root, n) for n in range(1, 4)]
    assert all(a >= 2e9 for a in after) and after == sorted(after)


def test_a_pending_read_still_saves_its_entry_from_eviction(backend, tmp_path):
    cache = backend.cache(tmp_path / "cache", max_bytes=20 * KIB)
    cache.put_chunk(key(1), b"c" * 8 * KIB)
    cache.put_chunk(key(2), b"c" * 8 * KIB)
    assert cache.get_chunk(key(1)) is not None  # pending: not written to the index yet
    cache.put_chunk(key(3), b"c" * 8 * KIB)  # over the cap: the least recent goes
    assert cache.get_chunk(key(2)) is None
    assert cache.get_chunk(key(1)) is not None


@pytest.mark.parametrize("reads", [64, 65, 200])
def test_many_reads_are_written_in_batches_and_later_batches_wait(
    backend, tmp_path, monkeypatch, reads
):
    root = tmp_path / "cache"
    cache = backend.cache(root, max_bytes=10**9)
    for n in range(reads):
        cache.put_chunk(key(n), b"c")
    # Reads happen at 2e9 s; the monotonic clock stands still, so no batch is written for
    # being five seconds old: only a full batch of 64 is.
    monkeypatch.setattr("tts_service.cache_index.index.time.time", lambda: 2e9)
    monkeypatch.setattr("tts_service.cache_index.index.time.monotonic", lambda: 0.0)
    for n in range(reads):
        cache.get_chunk(key(n))
    written = 64 * (reads // 64)  # 64, 64, 192
    refreshed = [last_access(backend, root, n) == 2e9 for n in range(reads)]
    assert refreshed == [n < written for n in range(reads)]
