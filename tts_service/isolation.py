"""Run CPU work on untrusted text where a runaway input cannot stall the server.

Extraction and normalisation run Python and C regular expressions over whatever a caller
sends; a C regex call holds the GIL for as long as it runs, so one pathological input
(a phrase repeated a few dozen times, a letter + 100,000 hyphens + a letter) would stop
every other request of the process, ``/healthz`` included. :class:`WorkerPool` runs such
work in a few separate processes instead, each task under a deadline: a worker that
exceeds it is killed (SIGKILL: a C call cannot be interrupted any other way) and replaced,
and the caller gets :class:`~tts_service.errors.TextTooComplex` (422). The process that
answers requests only waits on a pipe, which holds neither the GIL nor the event loop.

The interface is one method, ``call(fn, *args)``: ``fn`` must be a module-level function
and its arguments and result picklable. :class:`InProcess` has the same interface and
just calls ``fn``, for the command line and for tests that do not exercise isolation.

Workers come from a ``forkserver`` that has imported ``preload`` once, so a replacement is
a fork of an already-warm interpreter (tens of milliseconds), not a fresh start; each
worker then runs ``warm`` once (e.g. a normalisation, which loads underthesea's data).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import resource
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, Literal, Protocol, TypeVar

from tts_service.errors import ServerBusy, TextTooComplex

__all__ = ["InProcess", "Isolation", "WorkerPool"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a request may wait for a free worker before it is told the server is busy
#: (503 with Retry-After): this many task deadlines, plus :data:`RESPAWN_ALLOWANCE_S`.
QUEUE_WAIT_FACTOR = 2.0
#: Seconds a replacement worker may take to start (a fork of the warm server: ~0.1 s).
RESPAWN_ALLOWANCE_S = 2.0
#: Callers that may wait for a worker at once, per worker; more are refused at once (503).
#: Each waits in one of the server's request threads (40 in all, ``/healthz`` among their
#: users), so a flood of texts must not take them all.
WAITING_PER_WORKER = 4


class Isolation(Protocol):
    """Where text work runs: :class:`WorkerPool` (the served app) or :class:`InProcess`."""

    def start(self) -> None:
        """Start the workers, if any (at service start-up)."""
        ...

    def call(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)``, or :class:`TextTooComplex` if it runs past the deadline."""
        ...

    def close(self) -> None:
        """Stop the workers, if any."""
        ...


class InProcess:
    """Runs text work in the calling thread: no deadline (the CLI; most tests)."""

    def start(self) -> None:
        """Nothing to start."""

    def call(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Call ``fn(*args)`` here."""
        return fn(*args)

    def close(self) -> None:
        """Nothing to stop."""


class _Crashed(Exception):
    """A worker's exception that could not travel back through a pipe (stands in for it)."""


def _serve(
    conn: Connection, warm: Callable[[], object] | None, memory_limit: int | None = None
) -> None:
    """A worker's loop: run each ``(fn, args)`` received, send back its result or error.

    Exceptions travel back as they are when they pickle (the service's own errors do,
    ``TextTooLongError`` aside, which the parent raises itself), else as ``_Crashed``.
    ``memory_limit`` caps the worker's address space (bytes): an input that makes a rule
    allocate without bound ends this worker with MemoryError, not the machine's memory.
    """
    if memory_limit is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    if warm is not None:
        warm()
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if task is None:
            return
        fn, args = task
        try:
            reply: tuple[str, object] = ("ok", fn(*args))
        except MemoryError:
            # The input blew up this process's memory: leave, and the caller's 422 says so.
            os._exit(1)
        except Exception as exc:  # every error goes back to the caller, none kills us
            try:
                pickle.loads(pickle.dumps(exc))
                reply = ("error", exc)
            except Exception:
                reply = ("error", _Crashed(f"{type(exc).__name__}: {exc}"))
        conn.send(reply)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    def kill(self) -> None:
        """End the process at once (it may be stuck in C code) and reap it."""
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def _too_complex(deadline_s: float) -> TextTooComplex:
    return TextTooComplex(
        f"Văn bản quá phức tạp để xử lý trong {deadline_s:g} giây; hãy gửi văn bản ngắn hơn "
        f"hoặc bỏ các đoạn lặp lại (text too complex to process within {deadline_s:g} s)."
    )


class WorkerPool:
    """``size`` worker processes; each task runs in one of them under ``deadline_s``.

    A task past its deadline, or whose worker dies (out of its ``memory_limit`` bytes of
    address space, or a crash in C), raises :class:`TextTooComplex`; the
    worker is killed and a new one started in the background. A task that finds no free
    worker within ``QUEUE_WAIT_FACTOR × deadline_s`` (+ :data:`RESPAWN_ALLOWANCE_S`), or
    that finds ``max_waiting`` callers waiting already, raises :class:`ServerBusy` (503).
    """

    def __init__(
        self,
        size: int,
        *,
        deadline_s: float,
        warm: Callable[[], object] | None = None,
        preload: Sequence[str] = (),
        start_method: Literal["forkserver", "spawn"] = "forkserver",
        max_waiting: int | None = None,
        memory_limit: int | None = None,
    ) -> None:
        if size < 1 or deadline_s <= 0:
            raise ValueError("a worker pool needs at least one worker and a positive deadline")
        self.size = size
        self.deadline_s = deadline_s
        self.memory_limit = memory_limit
        self._warm = warm
        self._context: ForkServerContext | SpawnContext
        if start_method == "forkserver":
            self._context = multiprocessing.get_context("forkserver")
            # Imported once in the fork server; every worker (and replacement) inherits it.
            self._context.set_forkserver_preload(list(preload))
        else:
            self._context = multiprocessing.get_context("spawn")
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False
        #: Workers killed for running past the deadline or dying (for tests and metrics).
        self.replaced = 0
        self.max_waiting = WAITING_PER_WORKER * size if max_waiting is None else max_waiting
        self._waiting = 0

    def start(self) -> None:
        """Start every worker and wait until each is warm (at service start-up).

        Idempotent: a pool that has its workers is left as it is.
        """
        with self._lock:
            if self._workers or self._closed:
                return
        starting = [self._spawn() for _ in range(self.size)]
        ready = sum(self._await_ready(worker) for worker in starting)
        if ready < self.size:
            # Better to fail at start-up than to answer 503 to every request later.
            self.close()
            raise RuntimeError(
                f"{self.size - ready} of {self.size} text workers could not start (see the "
                "log; a program that starts a pool must guard its main module with "
                "`if __name__ == '__main__':`)"
            )

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child, self._warm, self.memory_limit),
            name="tts-text",
            daemon=True,
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> bool:
        """Hand ``worker`` out once it says it is warm; False if it died instead."""
        try:
            worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            self._discard(worker)
            if not self._closed:  # else close() ended it
                code = worker.process.exitcode
                logger.error("a text worker died while starting (exit code %s)", code)
            return False
        with self._lock:
            if self._closed:
                worker.conn.send(None)
                return False
        self._idle.put(worker)
        return True

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start its successor without making the caller wait."""
        worker.kill()
        self._discard(worker)
        with self._lock:
            self.replaced += 1
            if self._closed:
                return

        def respawn() -> None:
            try:
                self._await_ready(self._spawn())
            except Exception:
                logger.exception("a text worker could not be restarted")

        threading.Thread(target=respawn, name="tts-text-respawn", daemon=True).start()

    def call(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Run ``fn(*args)`` in a worker; its result, or its exception re-raised here."""
        # Long enough for a worker killed at its deadline to be replaced.
        wait = QUEUE_WAIT_FACTOR * self.deadline_s + RESPAWN_ALLOWANCE_S
        with self._lock:
            full = self._waiting >= self.max_waiting
            if not full:
                self._waiting += 1
        worker = None
        if not full:
            try:
                worker = self._idle.get(timeout=wait)
            except queue.Empty:
                pass
            finally:
                with self._lock:
                    self._waiting -= 1
        if worker is None:
            raise ServerBusy(
                "Máy chủ đang bận xử lý văn bản, xin thử lại sau giây lát "
                "(all text workers are busy; try again soon).",
                retry_after=self.deadline_s,
            )
        started = time.monotonic()
        try:
            task = pickle.dumps((fn, args))
        except Exception:
            self._idle.put(worker)  # nothing was sent: the worker is as it was
            raise
        try:
            worker.conn.send_bytes(task)
            if not worker.conn.poll(self.deadline_s):
                logger.warning(
                    "text task %s ran past %.1f s; worker killed", fn.__name__, self.deadline_s
                )
                self._replace(worker)
                raise _too_complex(self.deadline_s)
            status, value = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            # The worker died under the task (out of memory, a crash in C): the input did it.
            logger.warning(
                "text worker died on %s after %.1f s: %s",
                fn.__name__,
                time.monotonic() - started,
                exc,
            )
            self._replace(worker)
            raise _too_complex(self.deadline_s) from None
        self._idle.put(worker)
        if status == "ok":
            result: T = value
            return result
        if isinstance(value, _Crashed) or not isinstance(value, BaseException):
            raise RuntimeError(f"text task {fn.__name__} failed: {value}") from None
        raise value

    def close(self) -> None:
        """Stop every worker: idle ones are told to leave, busy ones are killed."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(timeout=1)
            if worker.process.is_alive():
                worker.kill()
            else:
                worker.conn.close()
