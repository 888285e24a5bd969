"""Background workers: claim registered articles' jobs from the database and read them.

Each worker thread claims one job at a time with a lease and renews it while the article
is read. The synthesis itself goes through :meth:`SpeechService.start`, so a job and a
listener reading the same article share one synthesis, and every chunk already in the
cache (an unchanged sentence of an edited article, or the chunks a killed process made
before it died) is reused rather than sent to the engine again.

Transient failures (Google down and no fallback, a portal page that would not load) are
retried with exponential backoff up to ``TTS_JOB_ATTEMPTS``; content that cannot be read
fails at once. A try whose process died counts too (it is counted when the job is
claimed): a job claimed once more than ``TTS_JOB_ATTEMPTS`` allows is a poison job — its
last try ended with its process — and fails without being read again, rather than take
down every process that resumes it. Either way the key's webhook hears about the outcome.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_service.backoff import backoff_s
from tts_service.errors import (
    FetchFailed,
    InputError,
    SynthesisError,
    SynthesisUnavailable,
    TTSError,
)
from tts_service.jobs import JobState
from tts_service.lanes import Lane
from tts_service.observability.logging import bind_request_id
from tts_service.registry.articles import PRIORITY_UPGRADE, ArticleRegistry, Content
from tts_service.registry.store import ArticleRecord, JobRecord
from tts_service.settings import Settings

__all__ = ["JobOutcome", "WorkerPool", "machine", "run_job", "worker_owner"]

logger = logging.getLogger(__name__)

# How long an idle worker waits before looking at the database again: other processes
# (a batch run beside the service) queue jobs this process is not told about.
_IDLE_POLL_S = 5.0


def machine() -> str:
    """``hostname~id``: the processes whose pids :func:`os.kill` can see from here.

    The id digests the kernel's boot id and this process's pid namespace. Two workers
    share it only when they run on the same running kernel in the same pid namespace, so
    "pid 812 is gone" means the same process for both. Workers of a cluster (two machines
    both called ``web-1``, two containers each with a pid 1) differ, and their jobs are
    left to their leases. Without ``/proc`` (not Linux) the id is random: no fast path.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
        seed = f"{boot}/{namespace}"
    except OSError:
        seed = uuid.uuid4().hex
    digest = hashlib.sha256(seed.encode("ascii")).hexdigest()[:12]
    return f"{socket.gethostname().replace(':', '-')}~{digest}"


_MACHINE = machine()


def worker_owner() -> str:
    """``machine:pid:instance``: who holds a lease, so a restarted process knows its dead self."""
    return f"{_MACHINE}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_owners(owners: set[str], me: str, *, restarting: bool = True) -> list[str]:
    """Owners on this machine whose process is gone (or, ``restarting``, a previous life of
    this pid).

    Their jobs need not wait for the lease to run out: ``kill -9`` and a restart resume
    the job at once. The lease is the truth: owners of other machines (another
    :func:`machine`, whatever their hostname) are left to it, as a pid says nothing
    there. Only at start-up is another instance with our own pid taken for dead (a
    process restarted in the same pid namespace got its old pid back); later it may be a
    live pool of this same process. A restarted container has a new pid namespace: its
    old jobs wait for their lease (``TTS_JOB_LEASE_S``).
    """
    host, pid, _ = me.split(":")
    dead = []
    for owner in owners:
        parts = owner.split(":")
        if len(parts) != 3 or parts[0] != host or owner == me:
            continue
        if parts[1] == pid:
            if restarting:
                dead.append(owner)  # same pid, other instance: we are its restart (containers)
            continue
        try:
            os.kill(int(parts[1]), 0)
        except ProcessLookupError:
            dead.append(owner)
        except (PermissionError, ValueError):
            continue
    return dead


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job ended, for the worker's log and the batch command's summary.

    ``state`` is done, failed, retry (queued again after a backoff), cancelled (the article
    was deleted or edited again) or lost (another worker took the job over).
    """

    job_id: int
    article_id: str
    state: str
    counts: tuple[int, int, int] | None = None
    error: str | None = None


def _backoff(settings: Settings, failures: int) -> float:
    """Seconds before the next try after ``failures`` failed ones; ``TTS_JOB_BACKOFF_*``."""
    return backoff_s(failures, base_s=settings.job_backoff_base_s, max_s=settings.job_backoff_max_s)


def _payload(record: ArticleRecord, job: JobRecord, **extra: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "revision": record.revision,
        "title": record.title,
        "job": job.id,
        **extra,
    }


def run_job(registry: ArticleRegistry, job: JobRecord, owner: str) -> JobOutcome:
    """Read the article of a claimed job, store its audio and record the outcome."""
    store = registry.store
    service = registry.service
    settings = service.settings
    record = store.get(job.article_id)
    if record is None:
        store.end_job(job.id, owner, state="cancelled")
        return JobOutcome(job.id, job.article_id, "cancelled")
    version = record.version

    def give_up(message: str, *, transient: bool) -> JobOutcome:
        if service.closing:
            # Our own shutdown broke it off, after WorkerPool.close handed the job back
            # (claimable at once, its try refunded): a backoff recorded now would only
            # keep the next worker waiting.
            return JobOutcome(job.id, record.id, "retry", error=message)
        # ``attempts`` counts the tries claimed, this one and any whose process died.
        tries = job.attempts
        if transient and tries < settings.job_attempts:
            delay = _backoff(settings, tries)
            logger.warning(
                "article %s: attempt %d failed, retrying in %.0f s: %s",
                record.id,
                tries,
                delay,
                message,
            )
            store.retry_later(job.id, owner, delay_s=delay, error=message)
            return JobOutcome(job.id, record.id, "retry", error=message)
        logger.warning("article %s failed: %s", record.id, message)
        if store.end_job(job.id, owner, state="failed", error=message):
            latest = store.get(record.id)
            if latest is not None and latest.version == version:
                store.set_status(record.id, "failed", error=message)
                if registry.notify is not None:
                    registry.notify(
                        record.owner, "article.failed", _payload(latest, job, error=message)
                    )
        return JobOutcome(job.id, record.id, "failed", error=message)

    if job.attempts > settings.job_attempts:
        # Claimed again after its last allowed try, which never ended: that process died
        # reading it (or was killed). Reading it again could kill this one too.
        logger.error(
            "article %s: giving up a job that stopped %d processes", record.id, job.attempts - 1
        )
        return give_up(_poison_message(job.attempts - 1), transient=False)
    try:
        content = registry.content(record)
    except InputError as exc:
        return give_up(str(exc), transient=False)
    except (FetchFailed, SynthesisUnavailable) as exc:
        # A site down, or every text worker busy (tts_service.isolation): try again later.
        return give_up(str(exc), transient=True)
    if not store.set_content(
        record.id,
        version=version,
        text=content.text,
        sentences=content.sentences(),
        target_key=content.target_key,
    ):
        # Edited again since this job was claimed: the newer job reads the newer text.
        store.end_job(job.id, owner, state="cancelled")
        return JobOutcome(job.id, record.id, "cancelled")
    store.set_status(record.id, "synthesising")
    try:
        counts, audio_key, engine, duration, chunk_keys = _synthesise(
            registry, content, job=job, owner=owner
        )
    except _LeaseLost:
        return JobOutcome(job.id, record.id, "lost")
    except SynthesisError as exc:
        return give_up(str(exc), transient=True)

    cache = service.cache
    cache.pin(audio_key, record.id)
    if record.audio_key and record.audio_key != audio_key:
        cache.unpin(record.audio_key, record.id)  # the old version goes back to the LRU
    latest = store.get(record.id)
    current = latest is not None and latest.version == version
    store.record_audio(
        record.id,
        version=version,
        audio_key=audio_key,
        chunk_keys=chunk_keys,
        engine=engine,
        duration_s=duration,
        counts=counts,
        ready=current,
    )
    store.end_job(job.id, owner, state="done", counts=counts)
    primary = next(iter(service.engines))
    if engine != primary:
        # Read by the fallback voice because Google failed: try Google's voice again once
        # the fallback stops standing in for it.
        store.enqueue(
            record.id,
            reason="upgrade",
            priority=PRIORITY_UPGRADE,
            delay_s=settings.fallback_ttl_s + 1,
        )
    if current and latest is not None and registry.notify is not None:
        registry.notify(
            latest.owner,
            "article.ready",
            _payload(
                latest,
                job,
                engine=engine,
                duration_s=duration,
                chunks_total=counts[0],
                chunks_reused=counts[1],
                chunks_synthesised=counts[2],
            ),
        )
    logger.info(
        "article %s ready: %d chunks, %d reused, %d synthesised",
        record.id,
        *counts,
    )
    return JobOutcome(job.id, record.id, "done", counts=counts)


def _poison_message(tries: int) -> str:
    """The error of a job given up because reading it stopped the process."""
    return (
        f"Đã thử đọc bài {tries} lần, lần cuối tiến trình đọc bị dừng giữa chừng; bài được bỏ "
        f"qua để không làm dịch vụ dừng tiếp (the last of {tries} tries stopped the process "
        "reading it: given up, so that it cannot keep stopping the service)."
    )


class _LeaseLost(Exception):
    """This worker's lease was taken over (it stalled past it); someone else finishes."""


def _synthesise(
    registry: ArticleRegistry, content: Content, *, job: JobRecord, owner: str
) -> tuple[tuple[int, int, int], str, str, float, list[str]]:
    """Synthesise (or find) the planned audio; counts, key, engine, duration, chunk keys."""
    service = registry.service
    settings = service.settings
    plans = content.plans
    primary = plans[0]
    total = len(primary.chunks)
    reused = sum(service.cache.has_chunk(pc.key) for pc in primary.chunks)
    # Background: listeners' chunks go first; see tts_service.lanes.
    running = service.start(plans, retry_failed=True, lane=Lane.BACKGROUND)
    if running is None:
        reused = total
    else:
        renew_every = settings.job_lease_s / 3
        while not running.wait(renew_every):
            if not registry.store.renew(job.id, owner, lease_s=settings.job_lease_s):
                raise _LeaseLost
        if running.state is JobState.FAILED:
            raise running.error or SynthesisError("synthesis failed")
    stored = service.stored(primary.key)
    if stored is None:
        raise SynthesisError("the article's audio could not be stored; retrying")
    engine = str(stored.meta["engine"])
    # Every engine's chunks: after a voice change midway the audio holds some of each, and
    # deleting the article must take all of them that no other article uses.
    chunk_keys = sorted({pc.key for plan in plans for pc in plan.chunks})
    counts = (total, reused, total - reused)
    return counts, stored.key, engine, float(stored.meta["duration_s"]), chunk_keys


class WorkerPool:
    """``size`` threads that run registered articles' jobs until closed."""

    def __init__(
        self,
        registry: ArticleRegistry,
        *,
        size: int,
        on_outcome: Callable[[JobOutcome], None] | None = None,
    ) -> None:
        self.registry = registry
        self.size = size
        # Told about every job this pool ends (the batch command's progress bar).
        self.on_outcome = on_outcome
        self.owner = worker_owner()
        self._wake = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Resume the jobs a dead process of this host left running, then start working."""
        self._resume_dead(restarting=True)
        for n in range(self.size):
            thread = threading.Thread(target=self._loop, name=f"tts-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _resume_dead(self, *, restarting: bool) -> int:
        """Make the jobs of dead processes on this host claimable now.

        At start-up (a restart after ``kill -9``), and again whenever a worker is idle: a
        ``tts-service pregenerate`` killed while the service keeps running has its jobs
        resumed by the service within ``_IDLE_POLL_S``, not after ``TTS_JOB_LEASE_S``.
        """
        store = self.registry.store
        owners = store.running_owners()
        if not owners - {self.owner}:
            return 0
        resumed = store.expire_leases(_dead_owners(owners, self.owner, restarting=restarting))
        if resumed:
            logger.info("resuming %d jobs left running by a process that died", resumed)
        return resumed

    def wake(self) -> None:
        """A job was queued: let an idle worker look now rather than at its next poll."""
        with self._wake:
            self._wake.notify_all()

    def _loop(self) -> None:
        store = self.registry.store
        lease = self.registry.service.settings.job_lease_s
        while not self._stopping:
            try:
                job = store.claim(self.owner, lease_s=lease)
            except TTSError as exc:
                logger.error("cannot claim a job: %s", exc)
                job = None
            if job is None:
                self._sleep()
                continue
            try:
                # No HTTP request started this: its lines, and the engines', carry the job.
                with bind_request_id(f"job-{job.id}"):
                    outcome = run_job(self.registry, job, self.owner)
                if outcome.state != "retry":
                    self.registry.announce(job.id)
                if self.on_outcome is not None:
                    self.on_outcome(outcome)
            except TTSError as exc:
                # The registry or the cache failed (a full disk): the job's lease runs out
                # and it is retried, by this or another process.
                logger.error("job %d for article %s broke off: %s", job.id, job.article_id, exc)
            except Exception:
                logger.exception("job %d for article %s crashed", job.id, job.article_id)

    def _sleep(self) -> None:
        due = None
        try:
            if self._resume_dead(restarting=False):
                return  # claimable now: no sleep
            due = self.registry.store.next_due()
        except TTSError:
            pass
        timeout = _IDLE_POLL_S if due is None else max(0.01, min(_IDLE_POLL_S, due - time.time()))
        with self._wake:
            if not self._stopping:
                self._wake.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop claiming; wait a little for running jobs, then hand the rest back.

        A job still running after ``timeout`` has its lease expired now, so any process
        (this one after a restart, the service beside a batch) resumes it at once instead
        of after ``TTS_JOB_LEASE_S``.
        """
        self._stopping = True
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._threads):
            try:
                # A clean stop is not a failed try: the jobs get it back.
                self.registry.store.expire_leases([self.owner], refund=True)
            except TTSError as exc:
                logger.warning("could not hand running jobs back: %s", exc)
