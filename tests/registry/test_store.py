"""The registry's database: migrations, and the job queue's claims and leases."""

from __future__ import annotations

import sqlite3

import pytest

from tests.registry.cms import register
from tts_service.errors import RegistryError
from tts_service.registry.db import Database, migrations
from tts_service.registry.store import ArticleStore


def _store(tmp_path) -> ArticleStore:
    return ArticleStore.open(tmp_path / "registry.sqlite3")


def test_migrations_apply_once_and_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "registry.sqlite3"
    db = Database(path)
    assert db.version == len(migrations()) >= 2
    db.close()
    Database(path).close()  # reopening applies nothing again
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version=999")
    raw.close()
    with pytest.raises(RegistryError, match="newer version"):
        Database(path)


def test_saving_unchanged_content_queues_nothing(tmp_path):
    store = _store(tmp_path)
    record, job = register(store, "a")
    assert job is not None and record.version == 1
    record, job = register(store, "a")
    assert job is None and record.version == 1
    record, job = register(store, "a", text="Xin chào các bạn.")
    assert job is not None and record.version == 2


def test_one_queued_job_per_article(tmp_path):
    store = _store(tmp_path)
    _, first = register(store, "a")
    _, second = register(store, "a", text="Bản sửa.")
    assert first is not None and second is not None and first.id == second.id
    assert store.queue_depth() == {"queued": 1}


def test_claims_follow_priority_and_leases(tmp_path):
    store = _store(tmp_path)
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


def test_a_newer_version_waits_for_the_running_one(tmp_path):
    store = _store(tmp_path)
    register(store, "a")
    running = store.claim("w1", lease_s=60)
    assert running is not None
    register(store, "a", text="Bản sửa.")  # queued while the first is running
    assert store.claim("w2", lease_s=60) is None
    store.end_job(running.id, "w1", state="done")
    newer = store.claim("w2", lease_s=60)
    assert newer is not None and newer.id != running.id


def test_retry_later_is_not_due_before_its_time(tmp_path):
    store = _store(tmp_path)
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


def test_a_clean_shutdown_hands_its_jobs_back_with_their_try(tmp_path):
    store = _store(tmp_path)
    register(store, "a")
    job = store.claim("w1", lease_s=60)
    assert job is not None and job.attempts == 1
    assert store.expire_leases(["w1"], refund=True) == 1
    again = store.claim("w2", lease_s=60)
    assert again is not None and again.id == job.id and again.attempts == 1
