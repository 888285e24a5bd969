"""The registry's database: migrations, and the job queue's claims and leases.

Each test runs on SQLite and on PostgreSQL (``conftest.py``).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.infra.common import free_ports
from tests.registry.cms import register
from tts_service.errors import RegistryError
from tts_service.registry.db import Database
from tts_service.registry.store import ArticleStore
from tts_service.storage.migrate import load_migrations

LEGACY = Path(__file__).parent / "legacy"


def _store(url: str) -> ArticleStore:
    return ArticleStore.open(url)


@pytest.fixture
def store(store_url):
    opened = _store(store_url)
    yield opened
    opened.close()


def legacy_registry(path: Path, *, schema: int) -> sqlite3.Connection:
    """A registry file as the service made it before SQLAlchemy: the SQL files of
    migrations 1..``schema`` (kept in ``legacy/``), ``PRAGMA user_version`` = ``schema``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = sqlite3.connect(path, isolation_level=None)
    for script in sorted(LEGACY.glob("*.sql"))[:schema]:
        raw.executescript(script.read_text(encoding="utf-8"))
    raw.execute(f"PRAGMA user_version={schema}")
    return raw


def test_migrations_apply_once_and_a_newer_database_is_refused(store_url, raw_db):
    db = Database(store_url)
    assert db.version == len(load_migrations("tts_service.registry.migrations")) >= 3
    db.close()
    Database(store_url).close()  # reopening applies nothing again
    with raw_db.begin() as conn:
        conn.execute(
            sa.text("UPDATE schema_version SET version = 999 WHERE component = 'registry'")
        )
    with pytest.raises(RegistryError, match="newer version"):
        Database(store_url)


@pytest.mark.sqlite_only("only SQLite registries were made before the migration runner")
def test_a_registry_file_made_by_the_old_code_is_adopted_with_its_rows(tmp_path):
    path = tmp_path / "registry.sqlite3"
    raw = legacy_registry(path, schema=3)
    raw.execute(
        "INSERT INTO articles (id, title, source_kind, source, owner, version, text, status, "
        "audio_key, chunk_keys, created, updated) VALUES ('cu', 'Tin cũ', 'text', 'Xin chào.', "
        "'cms', 2, 'Xin chào.', 'ready', 'k1', '[\"c1\"]', 1, 2)"
    )
    for state in ("done", "done", "queued"):
        raw.execute(
            "INSERT INTO jobs (article_id, reason, priority, state, not_before, created, "
            f"article_owner) VALUES ('cu', 'put', 0, '{state}', 1, 1, 'cms')"
        )
    # The newest job was deleted: its id must not be handed out again (clients poll by id).
    raw.execute("DELETE FROM jobs WHERE id = 3")
    raw.execute("INSERT INTO lexicon VALUES ('UBND', 'ủy ban nhân dân')")
    raw.execute("INSERT INTO state VALUES ('lexicon', 'managed')")
    raw.execute(
        "INSERT INTO deliveries (owner, event, body, state, next_attempt, created, updated) "
        "VALUES ('cms', 'article.ready', '{}', 'queued', 1, 1, 1)"
    )
    raw.close()

    store = ArticleStore.open(path)
    try:
        assert store.db.version == 3
        record = store.get("cu")
        assert record is not None
        assert (record.title, record.version, record.audio_key, record.chunk_keys) == (
            "Tin cũ",
            2,
            "k1",
            ["c1"],
        )
        assert store.lexicon() == {"UBND": "ủy ban nhân dân"}
        assert store.audio_in_use(["k1", "c1", "k2"]) == {"k1", "c1"}
        _, job = register(store, "cu", "Bản sửa.")
        assert job is not None and job.id == 4 and job.article_owner == "cms"
    finally:
        store.close()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT component, version FROM schema_version").fetchall() == [
            ("registry", 3)
        ]


def test_concurrent_claims_take_each_job_once(store_url):
    """Four processes' worth of claimers (one engine each) share one queue."""
    setup = _store(store_url)
    for n in range(24):
        register(setup, f"bai-{n}")
    stores = [_store(store_url) for _ in range(4)]
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def claimer(index: int) -> None:
        while (job := stores[index].claim(f"w{index}", lease_s=600)) is not None:
            with lock:
                claimed.append((job.article_id, job.id))

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in [setup, *stores]:
        store.close()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 24


def test_an_unreachable_database_is_a_registry_error():
    (port,) = free_ports(1)
    with pytest.raises(RegistryError, match="cannot open the article registry"):
        ArticleStore.open(f"postgresql://postgres@127.0.0.1:{port}/tts")


def test_saving_unchanged_content_queues_nothing(store):
    record, job = register(store, "a")
    assert job is not None and record.version == 1
    record, job = register(store, "a")
    assert job is None and record.version == 1
    record, job = register(store, "a", text="Xin chào các bạn.")
    assert job is not None and record.version == 2


def test_one_queued_job_per_article(store):
    _, first = register(store, "a")
    _, second = register(store, "a", text="Bản sửa.")
    assert first is not None and second is not None and first.id == second.id
    assert store.queue_depth() == {"queued": 1}


def test_claims_follow_priority_and_leases(store):
    register(store, "batch", priority=10)
    register(store, "publish", priority=0)
    first = store.claim("w1", lease_s=60)
    assert first is not None and first.article_id == "publish" and first.attempts == 1
    second = store.claim("w2", lease_s=60)
    assert second is not None and second.article_id == "batch"
    assert store.claim("w3", lease_s=60) is None
    # w1 dies: once its lease is expired, its job is claimed again. The try w1 started
    # counts: had the job killed w1, resuming it must not be free (a crash loop).
    assert store.expire_leases(["w1"]) == 1
    again = store.claim("w3", lease_s=60)
    assert again is not None and again.id == first.id and again.attempts == 2
    # The dead worker can no longer finish or renew what it lost.
    assert not store.renew(first.id, "w1", lease_s=60)
    assert not store.end_job(first.id, "w1", state="done")
    assert store.end_job(first.id, "w3", state="done")


def test_a_newer_version_waits_for_the_running_one(store):
    register(store, "a")
    running = store.claim("w1", lease_s=60)
    assert running is not None
    register(store, "a", text="Bản sửa.")  # queued while the first is running
    assert store.claim("w2", lease_s=60) is None
    store.end_job(running.id, "w1", state="done")
    newer = store.claim("w2", lease_s=60)
    assert newer is not None and newer.id != running.id


def test_retry_later_is_not_due_before_its_time(store):
    register(store, "a")
    job = store.claim("w1", lease_s=60)
    assert job is not None
    assert store.retry_later(job.id, "w1", delay_s=3600, error="Google down")
    assert store.claim("w1", lease_s=60) is None
    retried = store.job(job.id)
    # One try: counted by the claim, not again by the retry.
    assert retried is not None and retried.attempts == 1 and retried.state == "queued"
    due = store.next_due()
    assert due is not None


def test_a_clean_shutdown_hands_its_jobs_back_with_their_try(store):
    register(store, "a")
    job = store.claim("w1", lease_s=60)
    assert job is not None and job.attempts == 1
    assert store.expire_leases(["w1"], refund=True) == 1
    again = store.claim("w2", lease_s=60)
    assert again is not None and again.id == job.id and again.attempts == 1
