"""WorkerPool: text work in other processes, each task under a deadline.

The tasks below stand for any runaway input: whatever makes a worker overrun, the pool
must kill it, answer TextTooComplex and go on serving with a fresh worker.
"""

from __future__ import annotations

import os
import time

import pytest

from tts_service import textwork
from tts_service.errors import SelectorError, ServerBusy, TextTooComplex
from tts_service.isolation import InProcess, WorkerPool
from tts_service.text.lexicon import Lexicon


def ready() -> None:
    """The workers' warm-up: unpickling it imports this module, whose tasks they run."""


def pid() -> int:
    return os.getpid()


def spin(seconds: float) -> str:
    """CPU work that holds this process for ``seconds`` (a stand-in for a runaway regex)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def die() -> None:
    os._exit(3)


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")


def raise_unpicklable() -> None:
    raise Unpicklable(1, 2)


@pytest.fixture
def pool():
    pools = []

    # A roomy deadline for ordinary calls, so a loaded machine cannot fail them; tests that
    # need a short one set ``deadline_s`` around the call that must overrun it.
    def make(size=1, deadline_s=30.0, **options):
        built = WorkerPool(size, deadline_s=deadline_s, warm=ready, **options)
        pools.append(built)
        built.start()
        return built

    yield make
    for built in pools:
        built.close()


def wait_for_workers(pool: WorkerPool, count: int) -> None:
    """Block until ``count`` workers are idle again (a replacement has warmed up)."""
    taken = [pool._idle.get(timeout=30) for _ in range(count)]
    for worker in taken:
        pool._idle.put(worker)


def test_work_runs_in_another_process(pool):
    workers = pool()
    assert workers.call(pid) != os.getpid()
    assert workers.call(spin, 0.0) == "done"


def test_the_tasks_errors_come_back_as_they_are(pool):
    workers = pool()
    with pytest.raises(SelectorError):
        workers.call(textwork.extract, None, "<p>Tin.</p>", "div[", None)
    with pytest.raises(RuntimeError, match="Unpicklable: 1/2"):
        workers.call(raise_unpicklable)
    assert workers.replaced == 0


def test_a_task_past_its_deadline_is_killed_and_its_worker_replaced(pool):
    workers = pool()
    first = workers.call(pid)
    workers.deadline_s = 0.5
    with pytest.raises(TextTooComplex) as caught:
        workers.call(spin, 60.0)
    workers.deadline_s = 30.0
    assert "quá phức tạp" in str(caught.value) and "too complex" in str(caught.value)
    assert workers.replaced == 1
    wait_for_workers(workers, 1)
    second = workers.call(pid)
    assert second != first
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # the runaway worker is gone, not left spinning


def exhaust_memory() -> None:
    raise MemoryError


def test_a_task_that_exhausts_memory_is_too_complex(pool):
    workers = pool()
    with pytest.raises(TextTooComplex):
        workers.call(exhaust_memory)
    assert workers.replaced == 1


def allocate(mib: int) -> int:
    """Hold ``mib`` MiB for a moment (a rule gone wild would hold it for good)."""
    return len(bytearray(mib * 1024 * 1024))


def test_a_worker_cannot_take_more_memory_than_its_limit(pool):
    workers = pool(memory_limit=512 * 1024 * 1024)
    assert workers.call(allocate, 64) == 64 * 1024 * 1024  # ordinary work fits
    with pytest.raises(TextTooComplex):
        workers.call(allocate, 2048)  # the machine has it; the worker may not take it
    assert workers.replaced == 1
    assert workers.call(allocate, 64) == 64 * 1024 * 1024  # its replacement works


def test_arguments_that_cannot_be_sent_leave_the_worker_free(pool):
    workers = pool()
    with pytest.raises(AttributeError):
        workers.call(pid, lambda: None)  # a lambda does not pickle
    assert workers.call(spin, 0.0) == "done"  # the only worker was given back


def test_a_worker_that_dies_is_replaced(pool):
    workers = pool()
    with pytest.raises(TextTooComplex):
        workers.call(die)
    assert workers.replaced == 1
    wait_for_workers(workers, 1)
    assert workers.call(spin, 0.0) == "done"


def test_busy_when_every_worker_is_held(pool):
    workers = pool()
    assert workers.max_waiting == 4  # four callers may wait per worker
    held = workers._idle.get(timeout=5)  # as if a task were running on it
    workers.deadline_s = 0.2  # a caller waits 2 × 0.2 + 2 s for a worker
    try:
        with pytest.raises(ServerBusy) as caught:
            workers.call(spin, 0.0)
        assert "busy" in str(caught.value) and "bận" in str(caught.value)
        assert caught.value.retry_after == 0.2
    finally:
        workers._idle.put(held)
        workers.deadline_s = 30.0
    assert workers.call(spin, 0.0) == "done"


def test_callers_beyond_the_waiting_room_are_refused_at_once(pool):
    # A 30 s deadline: a caller that waited would wait a minute; this one is refused now.
    workers = pool(max_waiting=0)
    held = workers._idle.get(timeout=5)
    try:
        with pytest.raises(ServerBusy):
            workers.call(spin, 0.0)
    finally:
        workers._idle.put(held)
    assert workers.max_waiting == 0 and workers._waiting == 0


def test_workers_read_with_the_lexicon_they_are_sent(pool):
    workers = pool()
    plain = textwork.LexiconState.of(Lexicon.builtin())
    site = textwork.LexiconState.of(Lexicon.with_site({"BQL": "Ban quản lý"}))
    text = "BQL dự án họp."
    assert workers.call(textwork.normalize_text, text, site).spoken_text == (
        "Ban quản lý dự án họp."
    )
    # The same worker, the lexicon changed back: no stale copy is used.
    assert "Ban quản lý" not in workers.call(textwork.normalize_text, text, plain).spoken_text
    assert workers.call(textwork.normalize_text, text, site).spoken_text == (
        "Ban quản lý dự án họp."
    )


def broken_warm_up() -> None:
    raise SystemExit(7)


def test_a_pool_whose_workers_cannot_start_fails_at_start_up():
    workers = WorkerPool(2, deadline_s=1.0, warm=broken_warm_up)
    with pytest.raises(RuntimeError, match="2 of 2 text workers could not start"):
        workers.start()


def test_in_process_runs_in_the_callers_process():
    isolation = InProcess()
    isolation.start()
    assert isolation.call(pid) == os.getpid()
    isolation.close()


def test_a_pool_needs_a_worker_and_a_deadline():
    with pytest.raises(ValueError):
        WorkerPool(0, deadline_s=1.0)
    with pytest.raises(ValueError):
        WorkerPool(1, deadline_s=0)
