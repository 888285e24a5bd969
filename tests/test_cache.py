"""The audio cache, on every store and index database (``backend``: tests/cache_db.py)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cache_db import CacheBackend, IndexDB
from tts_service.cache import _HOST, AudioCache
from tts_service.errors import CacheError

# Every test runs on each store (the cache directory, SeaweedFS) with each index database
# (SQLite, PostgreSQL): ``backend``; those about an old SQLite file only on that.

KEY = "a" * 40


def make(backend: CacheBackend, tmp_path, max_bytes=10_000_000):
    return backend.cache(tmp_path / "cache", max_bytes=max_bytes)


def test_chunk_round_trip_and_restart(backend, tmp_path):
    cache = make(backend, tmp_path)
    cache.put_chunk(KEY, b"frames")
    assert cache.get_chunk(KEY) == b"frames"
    cache.close()
    again = make(backend, tmp_path)
    assert again.get_chunk(KEY) == b"frames"
    assert again.total_bytes == len(b"frames")


def test_article_round_trip(backend, tmp_path):
    cache = make(backend, tmp_path)
    cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={"engine": "espeak"})
    article = cache.get_article(KEY)
    assert article is not None
    assert cache.read_mp3(article) == b"ID3mp3"
    assert cache.read_vtt(article) == "WEBVTT\n"
    assert (article.mp3_size, article.vtt_size) == (6, 7)
    assert article.meta == {"engine": "espeak"}


def test_crash_before_metadata_leaves_nothing_servable(backend, tmp_path, monkeypatch):
    cache = make(backend, tmp_path)

    def crash_on_metadata(key):
        if key.endswith(".json"):
            raise OSError(28, "No space left on device")

    backend.fail_puts(cache, monkeypatch, crash_on_metadata)
    with pytest.raises(CacheError):
        cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    monkeypatch.undo()
    assert cache.get_article(KEY) is None
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
    # What was stored before the failure is removed again at once.
    assert backend.keys(tmp_path / "cache") == []
    cache.close()


def test_a_restart_removes_what_a_crash_left_under_final_keys(backend, tmp_path):
    # A process killed between two objects of an article, and between a chunk's object
    # and its index row: the restart removes the incomplete article, indexes the chunk.
    root = tmp_path / "cache"
    make(backend, tmp_path).close()
    store = backend.open(root)
    store.put_atomic(f"articles/{KEY[:2]}/{KEY}.mp3", b"ID3mp3")
    store.put_atomic(f"chunks/bb/{'b' * 40}.mp3", b"frames")
    cache = make(backend, tmp_path)
    assert backend.keys(root) == [f"chunks/bb/{'b' * 40}.mp3"]
    assert cache.total_bytes == len(b"frames")
    assert cache.get_chunk("b" * 40) == b"frames"


def test_a_restart_forgets_entries_whose_objects_went(backend, tmp_path):
    # An operator's clean-up, or a bucket's lifecycle rule: the index must not promise
    # audio the store no longer has.
    root = tmp_path / "cache"
    cache = make(backend, tmp_path)
    cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    cache.put_chunk("b" * 40, b"frames")
    cache.set_alias("c" * 40, KEY)
    cache.close()
    backend.open(root).delete(f"articles/{KEY[:2]}/{KEY}.vtt")
    cache = make(backend, tmp_path)
    assert cache.get_article(KEY) is None
    assert cache.get_alias("c" * 40) is None
    assert backend.keys(root) == [f"chunks/bb/{'b' * 40}.mp3"]
    assert cache.total_bytes == len(b"frames")


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    with subprocess.Popen([sys.executable, "-c", "pass"]) as proc:
        proc.wait()
    return proc.pid


def test_leftovers_of_dead_writers_are_removed_at_start_and_live_ones_kept(backend, tmp_path):
    make(backend, tmp_path).close()
    tmp = tmp_path / "cache" / "tmp"
    dead = tmp / f"{KEY}.mp3.{_HOST}-{dead_pid()}.{'0' * 32}.part"
    dead_marker = tmp / f"{KEY}.{_HOST}-{dead_pid()}.writing"
    live = tmp / f"{KEY}.mp3.{_HOST}-{os.getpid()}.{'1' * 32}.part"
    elsewhere = tmp / f"{KEY}.mp3.0badc0de-{dead_pid()}.{'2' * 32}.part"  # another host
    unknown = tmp / "x.mp3.part"  # not named by this version: judged by its age only
    stale = tmp / "y.mp3.part"
    for path in (dead, dead_marker, live, elsewhere, unknown, stale):
        path.write_bytes(b"half")
    an_hour_ago = time.time() - 3601
    os.utime(stale, (an_hour_ago, an_hour_ago))
    make(backend, tmp_path).close()
    assert sorted(p.name for p in tmp.iterdir()) == sorted(
        p.name for p in (live, elsewhere, unknown)
    )


def test_a_second_process_opening_the_cache_spares_an_article_being_written(
    backend, tmp_path, monkeypatch
):
    # A batch beside the service is supported: its start must not take the service's
    # in-flight files (the .json still in tmp/, the .mp3 and .vtt renamed already) for a
    # crash's leftovers.
    cache = make(backend, tmp_path)
    renaming_meta, go_on = threading.Event(), threading.Event()

    def slow_on_metadata(key):
        if key.endswith(".json"):
            renaming_meta.set()
            assert go_on.wait(30)

    backend.fail_puts(cache, monkeypatch, slow_on_metadata)
    errors: list[BaseException] = []

    def write():
        try:
            cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={"n": 1})
        except BaseException as exc:
            errors.append(exc)

    root = tmp_path / "cache"
    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert renaming_meta.wait(30)
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                OPEN_AND_CLOSE,
                str(root),
                backend.url(root),
                backend.postgres or "",
            ],
            env=backend.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert other.returncode == 0, other.stderr
    finally:
        go_on.set()
        writer.join(30)
    assert errors == []
    article = cache.get_article(KEY)
    assert article is not None
    assert (cache.read_mp3(article), article.meta) == (b"ID3mp3", {"n": 1})
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


OPEN_AND_CLOSE = """
import os, sys
from pathlib import Path
from tts_service.cache import AudioCache
from tts_service.storage import open_blob_store
store = open_blob_store(sys.argv[2], s3_endpoint_url=os.environ.get("TTS_S3_ENDPOINT_URL"))
url = sys.argv[3] or None
AudioCache(Path(sys.argv[1]), max_bytes=10**9, store=store, database_url=url).close()
"""


def test_least_recently_used_entries_are_evicted(backend, tmp_path):
    cache = make(backend, tmp_path, max_bytes=1024 * 1024)
    mib = 1024 * 1024
    cache.put_chunk("1" * 40, b"x" * (mib // 2))
    cache.put_chunk("2" * 40, b"x" * (mib // 2))
    assert cache.get_chunk("1" * 40) is not None  # now 1 is more recent than 2
    cache.put_chunk("3" * 40, b"x" * (mib // 2))
    assert cache.get_chunk("2" * 40) is None
    assert cache.get_chunk("1" * 40) is not None
    assert cache.get_chunk("3" * 40) is not None
    assert cache.total_bytes <= mib


def test_alias_expires(backend, tmp_path):
    cache = make(backend, tmp_path)
    cache.set_alias("b" * 40, KEY, ttl=-1)
    assert cache.get_alias("b" * 40) is None
    cache.set_alias("b" * 40, KEY)
    assert cache.get_alias("b" * 40) == KEY


def test_keys_cannot_escape_the_cache(backend, tmp_path):
    with pytest.raises(CacheError):
        make(backend, tmp_path).get_chunk("../../etc/passwd")


def test_readiness_probe_sees_a_writable_cache(backend, tmp_path):
    assert make(backend, tmp_path).writable()


def test_pinned_articles_are_never_evicted_and_do_not_count_against_the_cap(backend, tmp_path):
    cache = backend.cache(tmp_path, max_bytes=1024 * 1024)
    pinned, loose = "1" * 40, "2" * 40
    cache.pin(pinned, "bai-1")
    cache.put_article(pinned, mp3=b"x" * 700_000, vtt="WEBVTT\n", meta={})
    cache.put_article(loose, mp3=b"y" * 700_000, vtt="WEBVTT\n", meta={})
    # 1.4 MB in all, but only the unpinned 0.7 MB counts: nothing goes.
    assert cache.get_article(pinned) is not None and cache.get_article(loose) is not None
    cache.put_chunk("3" * 40, b"z" * 400_000)  # now the unpinned part is over the cap
    assert cache.get_article(pinned) is not None
    assert cache.get_article(loose) is None


def test_unpin_says_when_no_owner_is_left_and_remove_deletes_now(backend, tmp_path):
    cache = backend.cache(tmp_path, max_bytes=10**9)
    cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    cache.pin(KEY, "a")
    cache.pin(KEY, "b")
    assert cache.unpin(KEY, "a") is False
    assert cache.unpin(KEY, "b") is True
    cache.remove("article", KEY)
    assert cache.get_article(KEY) is None
    assert cache.total_bytes == 0


# -- shortcuts: aliases and page validators are pruned ------------------------------------


def shortcuts(backend: CacheBackend | IndexDB, root) -> tuple[list[str], list[str]]:
    """The aliases and the page URLs in the index, sorted."""
    aliases = sorted(row[0] for row in backend.rows(root, "SELECT alias FROM aliases"))
    pages = sorted(row[0] for row in backend.rows(root, "SELECT url FROM pages"))
    return aliases, pages


def age(backend: CacheBackend | IndexDB, root, seconds: float) -> None:
    """Make every shortcut ``seconds`` older (and its expiry that much nearer)."""
    for table in ("aliases", "pages"):
        backend.run(root, f"UPDATE {table} SET created = created - :s", s=seconds)
    backend.run(root, "UPDATE aliases SET expires = expires - :s", s=seconds)


def add_shortcuts(cache: AudioCache, target: str, n: int, prefix: str) -> None:
    for i in range(n):
        cache.set_alias(f"{prefix}{i:039d}", target)
        cache.set_page(
            f"https://langson.gov.vn/{prefix}{i}",
            "default reading",
            etag=None,
            last_modified=None,
            article=target,
        )


def test_shortcuts_go_with_the_article_they_lead_to(backend, tmp_path):
    root = tmp_path / "cache"
    cache = backend.cache(root, max_bytes=1024 * 1024)
    kept, removed, evicted = "1" * 40, "2" * 40, "3" * 40
    for key in (kept, removed, evicted):
        cache.put_article(key, mp3=b"x" * 300_000, vtt="WEBVTT\n", meta={})
        add_shortcuts(cache, key, 2, key[0])
    cache.remove("article", removed)
    assert cache.get_alias(f"2{0:039d}") is None
    cache.get_article(kept)  # more recent than the third
    cache.put_article("4" * 40, mp3=b"y" * 600_000, vtt="WEBVTT\n", meta={})  # evicts it
    assert cache.get_article(evicted) is None
    assert shortcuts(backend, root) == (
        [f"1{0:039d}", f"1{1:039d}"],
        ["https://langson.gov.vn/10", "https://langson.gov.vn/11"],
    )


def test_shortcuts_that_lead_nowhere_for_an_hour_expire_or_overflow_are_pruned(backend, tmp_path):
    root = tmp_path / "cache"
    cache = make(backend, tmp_path)
    stored, pending = "1" * 40, "2" * 40
    cache.put_article(stored, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    add_shortcuts(cache, stored, 3, "s")  # lead to a stored article: kept
    add_shortcuts(cache, pending, 2, "p")  # its job failed long ago: pruned
    cache.set_alias("a" * 40, "p" + f"{0:039d}")  # an alias of a pruned alias: pruned
    cache.set_alias("e" * 40, stored, ttl=10)  # expires: pruned
    cache.close()
    age(backend, root, 3601)
    cache = make(backend, tmp_path)
    add_shortcuts(cache, pending, 1, "n")  # a job still running (young): kept
    cache.close()
    cache = backend.cache(root, max_bytes=10**9, max_shortcuts=3)  # the 3 newest of each
    assert shortcuts(backend, root) == (
        [f"n{0:039d}", f"s{1:039d}", f"s{2:039d}"],
        ["https://langson.gov.vn/n0", "https://langson.gov.vn/s1", "https://langson.gov.vn/s2"],
    )


def test_a_busy_service_prunes_its_shortcuts_every_minute(backend, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    cache = backend.cache(root, max_bytes=10**9, max_shortcuts=4)
    cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    add_shortcuts(cache, KEY, 6, "b")
    assert len(shortcuts(backend, root)[0]) == 6  # less than a minute since the last pruning
    monkeypatch.setattr("tts_service.cache_index.index.PRUNE_INTERVAL_S", 0.0)
    assert cache.get_alias(f"b{5:039d}") == KEY
    assert tuple(map(len, shortcuts(backend, root))) == (4, 4)


def test_an_index_from_before_shortcuts_were_dated_is_migrated(tmp_path):
    # SQLite only, as every index made before the migration runner.
    backend = IndexDB(None)
    root = tmp_path / "cache"
    root.mkdir()
    raw = sqlite3.connect(root / "index.sqlite3")
    with raw:
        raw.execute(
            "CREATE TABLE aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL, expires REAL)"
        )
        raw.execute(
            "CREATE TABLE pages (url TEXT NOT NULL, selector TEXT NOT NULL, etag TEXT, "
            "last_modified TEXT, article TEXT NOT NULL, PRIMARY KEY (url, selector))"
        )
        raw.execute("INSERT INTO aliases VALUES (?, ?, NULL)", ("b" * 40, "c" * 40))
    raw.close()
    cache = make(backend, tmp_path)
    # Its old rows count from now: a shortcut to a job that may still run is not pruned.
    assert cache.get_alias("b" * 40) == "c" * 40
    cache.set_page("https://langson.gov.vn/a", "r", etag='"v1"', last_modified=None, article=KEY)
    assert cache.get_page("https://langson.gov.vn/a", "r") == ('"v1"', None, KEY)


OLD_INDEX = Path(__file__).parent / "fixtures" / "audio_index_v0.sql"


def test_an_index_made_by_the_sqlite3_code_is_adopted_with_everything_in_it(tmp_path):
    # SQLite only: the index every installation has today, made by the code before
    # SQLAlchemy (its dump: tests/fixtures/audio_index_v0.sql), with its files on disk.
    backend = IndexDB(None)
    root = tmp_path / "cache"
    root.mkdir()
    raw = sqlite3.connect(root / "index.sqlite3")
    raw.executescript(OLD_INDEX.read_text(encoding="utf-8"))
    entries = raw.execute("SELECT kind, key, size FROM entries ORDER BY kind, key").fetchall()
    before = {
        table: sorted(raw.execute(f"SELECT * FROM {table}").fetchall())
        for table in ("entries", "pins", "aliases", "pages", "totals")
    }
    raw.close()
    for kind, key, size in entries:
        if kind == "chunk":
            path = root / "chunks" / key[:2] / f"{key}.mp3"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"c" * size)
        else:
            folder = root / "articles" / key[:2]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{key}.vtt").write_text("WEBVTT\n")
            (folder / f"{key}.json").write_text("{}")
            (folder / f"{key}.mp3").write_bytes(b"a" * (size - 7 - 2))
    cache = backend.cache(root, max_bytes=10**9)
    cache.close()
    after = {table: sorted(backend.rows(root, f"SELECT * FROM {table}")) for table in before}
    assert after == before
    assert before["totals"] == [("all", 21048), ("unpinned", 11016)]
    assert backend.rows(
        root, "SELECT version FROM schema_version WHERE component = 'audio_index'"
    ) == [(1,)]
    # And it goes on working: the cap now below the unpinned bytes takes only unpinned ones.
    cache = backend.cache(root, max_bytes=4000)
    cache.put_chunk("f" * 40, b"z" * 3000)
    assert cache.get_article(f"{10:040x}") is not None  # pinned twice
    assert cache.get_article(f"{11:040x}") is not None  # pinned
    assert cache.get_article(f"{12:040x}") is None  # unpinned, evicted
    assert cache.get_alias("b" * 40) is None  # its shortcut went with it
    assert cache.total_bytes == sum(
        size for *_, size in backend.rows(root, "SELECT size FROM entries")
    )


def test_removing_an_article_leaves_none_of_its_files(backend, tmp_path):
    # Found by mutation testing: the .json could stay behind unnoticed.
    cache = make(backend, tmp_path)
    cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    cache.put_chunk("b" * 40, b"frames")
    cache.remove("article", KEY)
    cache.remove("chunk", "b" * 40)
    assert backend.keys(tmp_path / "cache") == []


def test_a_cache_exactly_at_its_cap_keeps_everything(backend, tmp_path):
    # Found by mutation testing: "<= max_bytes" could become "< max_bytes" unnoticed.
    cache = make(backend, tmp_path, max_bytes=2 * 1000)
    cache.put_chunk("1" * 40, b"x" * 1000)
    cache.put_chunk("2" * 40, b"x" * 1000)
    assert cache.total_bytes == 2000
    assert cache.get_chunk("1" * 40) is not None and cache.get_chunk("2" * 40) is not None
