"""A registry job that finds every text worker busy is retried later, not failed or lost."""

from __future__ import annotations

from tests.registry.cms import register
from tts_service.errors import ServerBusy
from tts_service.isolation import InProcess
from tts_service.registry.articles import ArticleRegistry
from tts_service.registry.store import ArticleStore
from tts_service.registry.worker import run_job


class BusyIsolation(InProcess):
    """Every text worker busy, as a flood of texts leaves them."""

    def call(self, fn, /, *args):
        raise ServerBusy("all text workers are busy", retry_after=10)


def test_a_job_finding_the_text_workers_busy_is_retried(make_service, engine, store_url):
    service = make_service(engine, job_attempts=3)
    service.isolation = BusyIsolation()
    store = ArticleStore.open(store_url)
    registry = ArticleRegistry(service, store)
    try:
        register(store, "tin-1")
        job = store.claim("test", lease_s=30)
        outcome = run_job(registry, job, "test")
        assert outcome.state == "retry"
        assert outcome.error == "all text workers are busy"
        assert store.get("tin-1").status != "failed"
    finally:
        registry.close()
