"""LaneExecutor: listeners' work first, and threads kept free for them; promotion."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from tts_service.lanes import Lane, LaneExecutor, Ticket, current_lane, in_lane


class Work:
    """Tasks that record when they start and block until the test lets them finish."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.busy = 0
        # The most background ("bg…") tasks that ran at once.
        self.most_busy = 0
        self.release = threading.Event()
        self._changed = threading.Condition()

    def task(self, name: str, *, block: bool = True) -> Callable[[], str]:
        def run() -> str:
            background = name.startswith("bg")
            with self._changed:
                self.started.append(name)
                self.busy += background
                self.most_busy = max(self.most_busy, self.busy)
                self._changed.notify_all()
            try:
                if block:
                    assert self.release.wait(10), "the test never released the work"
                return f"{name}:{current_lane().label}"
            finally:
                with self._changed:
                    self.busy -= background

        return run

    def wait_started(self, n: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.started) >= n, timeout=10)


@pytest.fixture
def work():
    work = Work()
    yield work
    work.release.set()


def test_a_listener_is_served_while_background_work_fills_its_share(work):
    pool = LaneExecutor(4, reserved=1, name="test")
    background = [pool.submit(work.task(f"bg{n}"), Lane.BACKGROUND)[0] for n in range(8)]
    work.wait_started(3)
    assert pool.queued(Lane.BACKGROUND) == 5
    # All three background threads are held; the fourth is the listeners'.
    listener, _ = pool.submit(work.task("listener", block=False), Lane.LISTENER)
    assert listener.result(timeout=10) == "listener:listener"
    assert work.started[:3] == ["bg0", "bg1", "bg2"] and work.started[3] == "listener"
    work.release.set()
    assert [f.result(timeout=10) for f in background] == [f"bg{n}:background" for n in range(8)]
    # Background work never had more than its three threads.
    assert work.most_busy == 3
    pool.shutdown()


def test_queued_listener_work_goes_before_queued_background_work(work):
    pool = LaneExecutor(1, name="test")  # one thread: nothing reserved, order is everything
    first, _ = pool.submit(work.task("running"), Lane.BACKGROUND)
    work.wait_started(1)
    later = [pool.submit(work.task(f"bg{n}", block=False), Lane.BACKGROUND)[0] for n in range(3)]
    urgent, _ = pool.submit(work.task("listener", block=False), Lane.LISTENER)
    work.release.set()
    for future in [first, urgent, *later]:
        future.result(timeout=10)
    assert work.started == ["running", "listener", "bg0", "bg1", "bg2"]
    pool.shutdown()


def test_promoted_work_leaves_the_background_queue_and_knows_its_new_lane(work):
    pool = LaneExecutor(2, reserved=1, name="test")
    pool.submit(work.task("bg0"), Lane.BACKGROUND)
    work.wait_started(1)
    queued = [pool.submit(work.task(f"bg{n}", block=False), Lane.BACKGROUND) for n in (1, 2)]
    # bg1 and bg2 wait for the single background thread; a listener now waits for bg2.
    future, ticket = queued[1]
    pool.promote(ticket)
    assert ticket.lane is Lane.LISTENER
    assert future.result(timeout=10) == "bg2:listener"
    assert pool.queued(Lane.BACKGROUND) == 1 and not queued[0][0].done()
    work.release.set()
    assert queued[0][0].result(timeout=10) == "bg1:background"
    pool.shutdown()


def test_shutdown_cancels_queued_work_and_refuses_more(work):
    pool = LaneExecutor(1, name="test")
    running, _ = pool.submit(work.task("running"), Lane.LISTENER)
    work.wait_started(1)
    queued, _ = pool.submit(work.task("never"), Lane.BACKGROUND)
    pool.shutdown()
    assert queued.cancelled()
    with pytest.raises(RuntimeError):
        pool.submit(work.task("late"), Lane.LISTENER)
    work.release.set()
    assert running.result(timeout=10) == "running:listener"
    assert work.started == ["running"]


def test_an_exception_reaches_the_future_and_the_thread_goes_on():
    pool = LaneExecutor(1, name="test")

    def broken() -> None:
        raise ValueError("Câu này không đọc được.")

    failed, _ = pool.submit(broken, Lane.BACKGROUND)
    with pytest.raises(ValueError):
        failed.result(timeout=10)
    fine, _ = pool.submit(lambda: "ok", Lane.BACKGROUND)
    assert fine.result(timeout=10) == "ok"
    pool.shutdown()


def test_the_lane_outside_any_executor_is_the_listeners():
    assert current_lane() is Lane.LISTENER
    with in_lane(Ticket(Lane.BACKGROUND)):
        assert current_lane() is Lane.BACKGROUND
    assert current_lane() is Lane.LISTENER


@pytest.mark.parametrize(("workers", "reserved", "slots"), [(8, 2, 6), (2, 1, 1), (1, 1, 1)])
def test_background_always_keeps_one_thread(workers, reserved, slots):
    assert LaneExecutor(workers, reserved=reserved).background_slots == slots


def test_articles_take_turns_within_a_lane(work):
    pool = LaneExecutor(1, name="test")
    hold, _ = pool.submit(work.task("hold"), Lane.LISTENER)
    work.wait_started(1)
    # A long article queued first, then two short ones: they do not wait for all of it.
    long = [
        pool.submit(work.task(f"a{n}", block=False), Lane.LISTENER, group="a") for n in range(4)
    ]
    short = [
        pool.submit(work.task(f"{g}{n}", block=False), Lane.LISTENER, group=g)
        for g in "bc"
        for n in range(2)
    ]
    assert pool.queued(Lane.LISTENER) == 8
    work.release.set()
    for future, _ in long + short:
        future.result(10)
    assert work.started == ["hold", "a0", "b0", "c0", "a1", "b1", "c1", "a2", "a3"]
    hold.result(10)
    pool.shutdown()
