"""Two lanes for the engines' work: listeners first, background jobs in what is left.

A listener who presses "Đọc nội dung" on a new article waits for its first chunk. An
editor's back catalogue being pre-generated waits for nobody. Both need the same engine
threads and the same Google request budget, so every chunk is queued in a lane:

- :attr:`Lane.LISTENER` — someone is waiting for this audio (``POST /v1/read``, the CLI);
- :attr:`Lane.BACKGROUND` — registry jobs: publishing, lexicon changes, batches.

:class:`LaneExecutor` runs listener chunks before any queued background chunk and keeps
``reserved`` of its threads for listeners only, so a new listener never waits behind the
51 chunks of a seed-sized article queued by the registry. The rate limiter
(:mod:`tts_service.coordination.limiter`) reads the running chunk's lane through
:func:`current_lane` and lets background requests take tokens only above a floor kept for
listeners.

A chunk is promoted (:meth:`LaneExecutor.promote`) when a listener starts waiting for it:
one who opens a registered article that is still being made, or whose new article shares
a sentence with a background one.

Within a lane, work is served in turns by *group* (an article): one chunk of each article
waiting, then the next of each. First come, first served by chunk would make the sixteenth
of sixteen long articles wait for the fifteen others' thousands of chunks before its first
one — its listener hears nothing for minutes. In turns, every article starts within a turn
of the others and each advances at its share of the engine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import Context, ContextVar, copy_context
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, TypeVar

__all__ = ["Lane", "LaneExecutor", "Ticket", "current_lane", "in_lane"]

T = TypeVar("T")


class Lane(IntEnum):
    """Who is waiting for a chunk; lower values are served first."""

    LISTENER = 0
    BACKGROUND = 1

    @property
    def label(self) -> str:
        """The lane's name in metrics and logs."""
        return self.name.lower()


@dataclass(eq=False, slots=True)
class Ticket:
    """The lane of one queued or running piece of work; promotion changes it in place."""

    lane: Lane


_running: ContextVar[Ticket | None] = ContextVar("tts_lane", default=None)


def current_lane() -> Lane:
    """The lane of the work this thread is running; listener outside any executor.

    Read again at each wait, so a chunk promoted while it waits for a token is served as a
    listener's from then on.
    """
    ticket = _running.get()
    return ticket.lane if ticket is not None else Lane.LISTENER


@contextmanager
def in_lane(ticket: Ticket) -> Iterator[None]:
    """Run the body as work of ``ticket``'s lane (for :func:`current_lane`)."""
    token = _running.set(ticket)
    try:
        yield
    finally:
        _running.reset(token)


@dataclass(eq=False)
class _Task(Generic[T]):
    fn: Callable[[], T]
    ticket: Ticket
    group: Hashable = None
    future: Future[T] = field(default_factory=Future)
    # The submitter's context (its request id, for the logs): the work runs inside it.
    context: Context = field(default_factory=copy_context)


class LaneExecutor:
    """A thread pool with a listener queue that always goes first.

    Args:
        workers: threads at most (the engine's concurrency).
        reserved: threads background work may never occupy, kept free for listeners.
            At most ``workers - 1``: background work always has one thread.
        name: thread name prefix.
    """

    def __init__(self, workers: int, *, reserved: int = 0, name: str = "tts-lane") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.background_slots = max(1, workers - max(0, reserved))
        self._name = name
        # Per lane, each group's queued work, the groups in the order of their next turn.
        self._queues: dict[Lane, OrderedDict[Hashable, deque[_Task[object]]]] = {
            lane: OrderedDict() for lane in Lane
        }
        self._busy: dict[Lane, int] = dict.fromkeys(Lane, 0)
        self._idle = 0
        self._threads: list[threading.Thread] = []
        self._cond = threading.Condition()
        self._closed = False

    # -- submitting ------------------------------------------------------------------------

    def submit(
        self, fn: Callable[[], T], lane: Lane, *, group: Hashable = None
    ) -> tuple[Future[T], Ticket]:
        """Queue ``fn`` in ``lane``; its future, and the ticket to promote it by.

        Work of one ``group`` (an article) runs in the order submitted; groups take turns.
        """
        task: _Task[T] = _Task(fn, Ticket(lane), group)
        with self._cond:
            if self._closed:
                raise RuntimeError("the executor is shut down")
            self._enqueue(lane, task)  # type: ignore[arg-type]
            waiting = sum(self._count(lane) for lane in Lane)
            if waiting > self._idle and len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._cond.notify_all()
        return task.future, task.ticket

    def promote(self, ticket: Ticket) -> None:
        """Serve ``ticket``'s work as a listener's: queued, it moves to the listener queue;
        running, it waits for tokens as a listener from its next look (see the limiter)."""
        with self._cond:
            if ticket.lane is Lane.LISTENER:
                return
            ticket.lane = Lane.LISTENER
            background = self._queues[Lane.BACKGROUND]
            for group, queue in background.items():
                for task in queue:
                    if task.ticket is ticket:
                        queue.remove(task)
                        if not queue:
                            del background[group]
                        self._enqueue(Lane.LISTENER, task)
                        self._cond.notify_all()
                        return

    def queued(self, lane: Lane) -> int:
        """How many pieces of work wait in ``lane`` (for metrics)."""
        with self._cond:
            return self._count(lane)

    def _enqueue(self, lane: Lane, task: _Task[object]) -> None:
        """Queue ``task`` behind its group's work; a new group takes the last turn."""
        queue = self._queues[lane].get(task.group)
        if queue is None:
            queue = self._queues[lane][task.group] = deque()
        queue.append(task)

    def _count(self, lane: Lane) -> int:
        return sum(len(queue) for queue in self._queues[lane].values())

    def _pop(self, lane: Lane) -> _Task[object]:
        """The next task of the group whose turn it is; the group goes to the back."""
        groups = self._queues[lane]
        group, queue = next(iter(groups.items()))
        task = queue.popleft()
        if queue:
            groups.move_to_end(group)
        else:
            del groups[group]
        return task

    def running(self, lane: Lane) -> int:
        """How many threads run work that was queued in ``lane``."""
        with self._cond:
            return self._busy[lane]

    # -- the threads -----------------------------------------------------------------------

    def _next(self) -> tuple[_Task[object], Lane] | None:
        """The next task a free thread may take, under the lock; ``None`` to keep waiting."""
        if self._queues[Lane.LISTENER]:
            return self._pop(Lane.LISTENER), Lane.LISTENER
        if self._queues[Lane.BACKGROUND] and self._busy[Lane.BACKGROUND] < self.background_slots:
            return self._pop(Lane.BACKGROUND), Lane.BACKGROUND
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                picked = self._next()
                while picked is None:
                    if self._closed:
                        return
                    self._idle += 1
                    self._cond.wait()
                    self._idle -= 1
                    picked = self._next()
                task, lane = picked
                self._busy[lane] += 1
            try:
                if task.future.set_running_or_notify_cancel():
                    task.context.run(self._run, task)
            finally:
                with self._cond:
                    self._busy[lane] -= 1
                    # A background slot came free: a waiting thread may take the next one.
                    self._cond.notify_all()

    @staticmethod
    def _run(task: _Task[object]) -> None:
        """Run ``task`` in its lane; its outcome goes to its future (inside its context)."""
        with in_lane(task.ticket):
            try:
                result = task.fn()
            except BaseException as exc:
                task.future.set_exception(exc)
            else:
                task.future.set_result(result)

    def shutdown(self, *, cancel_futures: bool = True) -> None:
        """Stop taking work; queued work is cancelled (or left to finish), running ends."""
        dropped: list[_Task[object]] = []
        with self._cond:
            self._closed = True
            if cancel_futures:
                for groups in self._queues.values():
                    for queue in groups.values():
                        dropped.extend(queue)
                    groups.clear()
            self._cond.notify_all()
        # Outside the lock: cancelling runs the futures' callbacks, which take their own.
        for task in dropped:
            task.future.cancel()
