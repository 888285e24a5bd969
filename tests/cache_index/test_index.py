"""AudioIndex on SQLite and real PostgreSQL: LRU among unpinned entries, pins, totals that
stay right under concurrent writers in other processes' engines, and failures as CacheError."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.infra.common import free_ports
from tts_service.cache_index import AudioIndex
from tts_service.cache_index import index as index_module
from tts_service.errors import CacheError


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def opened() -> Iterator[list[AudioIndex]]:
    """Indexes a test opens on ``url``, closed after it."""
    indexes: list[AudioIndex] = []
    yield indexes
    for index in indexes:
        index.close()


def open_index(url: str, opened: list[AudioIndex]) -> AudioIndex:
    index = AudioIndex.open(url)
    opened.append(index)
    return index


def key(n: int) -> str:
    return f"{n:040x}"


def fresh_sums(index: AudioIndex) -> tuple[int, int]:
    """(all, unpinned) summed over the entries, ignoring the totals rows."""
    with index.engine.connect() as conn:
        everything = conn.execute(sa.text("SELECT COALESCE(SUM(size), 0) FROM entries")).scalar()
        unpinned = conn.execute(
            sa.text(
                "SELECT COALESCE(SUM(size), 0) FROM entries WHERE NOT (kind = 'article' AND "
                "EXISTS (SELECT 1 FROM pins WHERE pins.key = entries.key))"
            )
        ).scalar()
    return int(everything or 0), int(unpinned or 0)


def kept(index: AudioIndex) -> tuple[int, int]:
    return index.total("all"), index.total("unpinned")


def test_eviction_takes_the_least_recently_used_unpinned_entries(url, opened, monkeypatch):
    index = open_index(url, opened)
    clock = iter(range(1000, 10**6))
    monkeypatch.setattr(index_module.time, "time", lambda: float(next(clock)))
    for n in range(1, 7):  # written in order 1..6: 1 is the least recent
        index.record("article" if n % 2 else "chunk", key(n), 100)
    index.pin(key(1), "bai-1")  # the oldest, but pinned
    index.touch("chunk", key(2))  # read: now the most recent
    index.flush()
    assert kept(index) == (600, 500)
    gone = index.evict(250)
    # Unpinned by age: 3, 4, 5, 6, 2; 500 → 250 takes 3, 4, 5.
    assert gone == [("article", key(3)), ("chunk", key(4)), ("article", key(5))]
    assert kept(index) == fresh_sums(index) == (300, 200)
    assert index.has("article", key(1)) and index.has("chunk", key(2))
    assert index.evict(250) == []


def test_pins_keep_articles_out_of_the_cap_until_the_last_owner_goes(url, opened):
    index = open_index(url, opened)
    index.record("article", key(1), 1000)
    index.record("chunk", key(1), 10)  # a chunk with the same key is never pinned
    index.pin(key(1), "a")
    index.pin(key(1), "a")  # the same owner again changes nothing
    index.pin(key(1), "b")
    assert kept(index) == fresh_sums(index) == (1010, 10)
    assert index.unpin(key(1), "a") is False
    assert kept(index) == (1010, 10)
    assert index.unpin(key(1), "b") is True
    assert index.unpin(key(1), "b") is True  # unpinning twice is harmless
    assert kept(index) == fresh_sums(index) == (1010, 1010)
    index.pin(key(2), "c")  # pinned before its audio exists
    index.record("article", key(2), 500)
    index.record("article", key(2), 700)  # made again, bigger
    assert kept(index) == fresh_sums(index) == (1710, 1010)
    assert index.evict(0) == [("article", key(1)), ("chunk", key(1))]
    assert kept(index) == fresh_sums(index) == (700, 0)


def test_totals_stay_right_under_concurrent_writers_from_two_engines(url, opened):
    # Two processes' indexes (two engines, two pools) and four threads each, writing the
    # same few keys at once: records, resizes, pins, unpins, removals and evictions.
    indexes = [open_index(url, opened), open_index(url, opened)]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        index = indexes[seed % 2]
        try:
            for _ in range(60):
                n = rng.randrange(6)
                action = rng.randrange(6)
                if action <= 1:
                    index.record(rng.choice(("article", "chunk")), key(n), rng.randrange(1, 999))
                elif action == 2:
                    index.pin(key(n), f"owner-{rng.randrange(2)}")
                elif action == 3:
                    index.unpin(key(n), f"owner-{rng.randrange(2)}")
                elif action == 4:
                    index.remove(rng.choice(("article", "chunk")), key(n))
                else:
                    index.evict(1500)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert kept(indexes[0]) == kept(indexes[1]) == fresh_sums(indexes[0])


def test_shortcuts_go_with_their_article_and_expire(url, opened):
    index = open_index(url, opened)
    index.record("article", key(1), 10)
    index.set_alias("a" * 40, key(1))
    index.set_alias("a" * 40, key(1))  # set again: still one row
    index.set_alias("b" * 40, key(1), ttl=-1)
    index.set_page("https://langson.gov.vn/a", "r", etag='"v1"', last_modified=None, article=key(1))
    index.set_page("https://langson.gov.vn/a", "r", etag='"v2"', last_modified=None, article=key(1))
    assert index.get_alias("a" * 40) == key(1)
    assert index.get_alias("b" * 40) is None
    assert index.get_page("https://langson.gov.vn/a", "r") == ('"v2"', None, key(1))
    index.remove("article", key(1))
    assert index.get_alias("a" * 40) is None
    assert index.get_page("https://langson.gov.vn/a", "r") is None


def test_sqlite_reads_run_beside_another_process_holding_the_write_lock(tmp_path, opened):
    # A cache hit's lookups must not queue behind a writer (WAL: readers beside a writer);
    # with BEGIN IMMEDIATE they would wait out the busy timeout and fail.
    path = tmp_path / "index.sqlite3"
    index = open_index(f"sqlite:///{path}", opened)
    index.record("article", key(1), 10)
    index.set_alias("a" * 40, key(1))
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE aliases SET target = 'x'")  # uncommitted
        assert index.get_alias("a" * 40) == key(1)
        assert index.has("article", key(1))
        assert index.total() == 10
        writer.execute("ROLLBACK")
    finally:
        writer.close()


def test_an_unreachable_database_is_a_cache_error():
    (port,) = free_ports(1)
    with pytest.raises(CacheError):
        AudioIndex.open(f"postgresql://postgres@127.0.0.1:{port}/none")


def test_a_database_gone_after_start_is_a_cache_error_not_a_crash(postgres_server):
    name = postgres_server.create_database()
    index = AudioIndex.open(postgres_server.url(name))
    try:
        index.record("chunk", key(1), 10)
        postgres_server.drop_database(name)
        assert index.reachable() is False
        with pytest.raises(CacheError):
            index.record("chunk", key(2), 10)
        with pytest.raises(CacheError):
            index.get_alias("a" * 40)
        index.touch("chunk", key(1))
        index.flush()  # best effort: logged, not raised
    finally:
        index.close()


def test_the_service_puts_its_index_where_tts_database_url_says(tmp_path, postgres_url):
    from tts_service.api.main import build_service
    from tts_service.settings import Settings

    settings = Settings(cache_dir=tmp_path / "cache", database_url=postgres_url)
    service = build_service(settings)
    try:
        service.cache.put_chunk(key(1), b"frames")
        assert service.cache.index.dialect == "postgresql"
    finally:
        service.cache.close()
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT key, size FROM entries")).all() == [(key(1), 6)]
    finally:
        engine.dispose()
    assert not (tmp_path / "cache" / "index.sqlite3").exists()


@pytest.mark.parametrize("index_first", [True, False], ids=["index-first", "registry-first"])
def test_one_database_holds_the_index_the_registry_and_coordination(url, opened, index_first):
    # TTS_DATABASE_URL names one database for all three: whichever opens it first, the
    # others migrate beside it and nobody takes another's tables for its own old ones.
    from tts_service.coordination.runtime import ensure_tables
    from tts_service.registry.db import Database
    from tts_service.storage.database import open_engine

    def open_all() -> tuple[AudioIndex, Database]:
        if index_first:
            index = open_index(url, opened)
            registry = Database(url)
        else:
            registry = Database(url)
            index = open_index(url, opened)
        engine = open_engine(url)
        try:
            ensure_tables(engine)
        finally:
            engine.dispose()
        return index, registry

    index, registry = open_all()
    index.record("chunk", key(1), 6)
    latest = registry.version
    registry.close()
    index.close()
    index, registry = open_all()  # a restart: nothing applied again, nothing lost
    try:
        assert registry.version == latest > 0
        assert index.keys() == [("chunk", key(1))]
        assert index.total("all") == 6
    finally:
        registry.close()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            components = conn.execute(sa.text("SELECT component FROM schema_version")).all()
    finally:
        engine.dispose()
    assert sorted(c for (c,) in components) == ["audio_index", "registry"]
