"""The one backoff rule: capped at its max, jitter included, for Google, jobs and webhooks."""

from __future__ import annotations

import random
import time

import pytest

from tests.registry.cms import CountingEngine
from tts_service.backoff import backoff_s
from tts_service.engines.gtts_engine import GTTSEngine
from tts_service.registry.runtime import RegistryRuntime
from tts_service.registry.webhooks import Webhooks
from tts_service.registry.worker import run_job


class Highest(random.Random):
    """A draw that always lands on the top of its range: the longest wait the rule allows."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Lowest(random.Random):
    """A draw that always lands on the bottom of its range."""

    def uniform(self, a: float, b: float) -> float:
        return a


@pytest.mark.parametrize(
    ("failures", "longest"),
    [(1, 10.0), (2, 20.0), (5, 160.0), (7, 640.0), (8, 900.0), (12, 900.0), (10_000, 900.0)],
)
def test_the_longest_wait_doubles_up_to_the_cap_exactly(failures, longest):
    wait = backoff_s(failures, base_s=10.0, max_s=900.0, rng=Highest())
    assert wait == longest
    assert backoff_s(failures, base_s=10.0, max_s=900.0, rng=Lowest()) == 0.0


def test_a_real_draw_never_passes_the_cap():
    rng = random.Random(20240701)
    waits = [backoff_s(9, base_s=10.0, max_s=900.0, rng=rng) for _ in range(5000)]
    assert max(waits) <= 900.0
    # Full jitter: the draws spread over the whole range, not around the cap.
    assert min(waits) < 90.0


@pytest.mark.parametrize(
    ("retry_after", "wait"), [(3.0, 3.0), (120.0, 60.0), (0.0, 0.0), (-5.0, 0.0)]
)
def test_retry_after_wins_and_is_capped_alike(retry_after, wait):
    assert backoff_s(1, base_s=10.0, max_s=60.0, retry_after=retry_after, rng=Highest()) == wait


@pytest.mark.parametrize("bad", [{"failures": 0}, {"base_s": -1.0}, {"max_s": -1.0}])
def test_nonsense_is_refused(bad):
    args = {"failures": 1, "base_s": 1.0, "max_s": 1.0, **bad}
    with pytest.raises(ValueError):
        backoff_s(args.pop("failures"), **args)


def test_google_and_webhooks_wait_by_the_same_rule(tmp_path):
    engine = GTTSEngine(base_url="http://127.0.0.1:9", backoff_base=0.5, backoff_max=8.0)
    try:
        engine._rng = Highest()
        # attempt is 0-based there: the wait before the second try is the base.
        assert [engine._backoff(a, None) for a in (0, 3, 4, 30)] == [0.5, 4.0, 8.0, 8.0]
        assert engine._backoff(0, 100.0) == 8.0
    finally:
        engine.close()
    from tts_service.registry.db import Database

    db = Database(tmp_path / "registry.sqlite3")
    try:
        hooks = Webhooks(db, [], attempts=20, backoff_base_s=10, backoff_max_s=3600, timeout_s=1)
        hooks._rng = Highest()
        assert [hooks._backoff(n, None) for n in (1, 9, 10, 19)] == [10, 2560, 3600, 3600]
        assert hooks._backoff(1, 7200.0) == 3600
    finally:
        db.close()


def test_a_failed_jobs_next_try_is_due_no_later_than_the_max(make_service, monkeypatch):
    # The jitter draws the top of its range, the case that used to go 20% past the cap.
    monkeypatch.setattr(random, "uniform", lambda a, b: b)
    engine = CountingEngine()
    engine.fail_on = "Google"
    service = make_service(
        engine, job_attempts=3, job_backoff_base_s=1000.0, job_backoff_max_s=30.0
    )
    runtime = RegistryRuntime(service, workers=0)
    try:
        runtime.registry.put("tin", title=None, text="Google đang lỗi.")
        job = runtime.store.claim("test-worker", lease_s=600)
        assert job is not None
        before = time.time()
        outcome = run_job(runtime.registry, job, "test-worker")
        after = time.time()
        assert outcome.state == "retry"
        queued = runtime.store.job(job.id)
        assert queued is not None and queued.state == "queued"
        # Due exactly TTS_JOB_BACKOFF_MAX_S after the failure was recorded.
        assert before + 30.0 <= queued.not_before <= after + 30.0
    finally:
        runtime.close()
