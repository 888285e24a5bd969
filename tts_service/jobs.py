"""A synthesis job: the live state of one article being read, shared by its listeners.

The job's worker thread appends bytes; any number of listeners on the event loop stream
them as they arrive. Listeners are woken with ``loop.call_soon_threadsafe``, so a stream
never polls and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from tts_service.errors import SynthesisError
from tts_service.lanes import Lane
from tts_service.planning import ArticlePlan

__all__ = ["Job", "JobState", "JobProgress"]


class JobState(StrEnum):
    """Where a job is: still reading, done and stored, or given up."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@dataclass(slots=True)
class JobProgress:
    """Counts for progress bars and reports."""

    total_chunks: int
    done_chunks: int = 0
    from_cache: int = 0


@dataclass(eq=False)
class Job:
    """One article being synthesised under the id of its primary plan."""

    plans: tuple[ArticlePlan, ...]
    progress: JobProgress
    state: JobState = JobState.PENDING
    engine: str = ""
    # Whose chunks these are: a listener's, or a registry job's that yields to listeners.
    lane: Lane = Lane.LISTENER
    # Who started it: a listener (``Lane.LISTENER``) or the registry; unlike ``lane`` this
    # never changes, so a registry job a listener joined still counts as the registry's.
    origin: Lane = Lane.LISTENER
    # The client (address) whose request started it, for the per-client share of jobs.
    client: str | None = None
    result_key: str | None = None
    error: SynthesisError | None = None
    duration: float = 0.0
    finished_at: float | None = None
    # Set when the finished audio could not be written (disk full): storing it again, from
    # memory, once space returns. Returns True when it is stored.
    retry_store: Callable[[], bool] | None = None
    _segments: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=set)
    _first_chunk: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)

    @property
    def id(self) -> str:
        """The article id listeners know: the primary engine's plan key."""
        return self.plans[0].key

    @property
    def started(self) -> bool:
        """True once the first chunk's audio (not just the tag) is in the stream."""
        return self._first_chunk.is_set()

    # -- written by the worker thread --------------------------------------------------

    def append(self, data: bytes, *, chunk: bool = True) -> None:
        """Add bytes to the stream and wake every listener."""
        with self._lock:
            self._segments.append(data)
        if chunk:
            self._first_chunk.set()
        self._notify()

    def finish(self, *, key: str, engine: str, duration: float) -> None:
        """Mark the job stored under ``key``; listeners drain and end."""
        with self._lock:
            self.state = JobState.READY
            self.result_key = key
            self.engine = engine
            self.duration = duration
            self.finished_at = time.monotonic()
        self._first_chunk.set()
        self._done.set()
        self._notify()

    def fail(self, error: SynthesisError) -> None:
        """Mark the job failed; a stream that already started ends short."""
        with self._lock:
            self.state = JobState.FAILED
            self.error = error
            self.finished_at = time.monotonic()
        self._first_chunk.set()
        self._done.set()
        self._notify()

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for loop, event in listeners:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                # The listener's loop closed (server shutting down); nothing to wake.
                continue

    # -- read by listeners -------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        """Block this thread until the job is ready or failed; False on timeout."""
        return self._done.wait(timeout)

    def audio(self) -> bytes:
        """All bytes produced so far."""
        with self._lock:
            return b"".join(self._segments)

    async def wait_started(self, timeout: float) -> bool:
        """Wait until the first chunk (or the end) arrived; False on timeout."""
        async for _ in self._changes(timeout):
            if self.started:
                return True
        return self.started

    async def wait_finished(self, timeout: float) -> bool:
        """Wait until the job is ready or failed; False on timeout."""
        async for _ in self._changes(timeout):
            if self.state is not JobState.PENDING:
                return True
        return self.state is not JobState.PENDING

    async def stream(self, timeout: float) -> AsyncIterator[bytes]:
        """Yield the stream's bytes from the start, as they are produced, until the end.

        Ends early when no new audio arrives for ``timeout`` seconds, or when the job fails.
        """
        sent = 0
        async for _ in self._changes(timeout):
            with self._lock:
                new = self._segments[sent:]
                state = self.state
            sent += len(new)
            if new:
                yield b"".join(new)
            if state is not JobState.PENDING:
                with self._lock:
                    rest = self._segments[sent:]
                if rest:
                    yield b"".join(rest)
                return

    async def _changes(self, timeout: float) -> AsyncIterator[None]:
        """Yield once now and again after every change, until a wait times out."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._lock:
            self._listeners.add(entry)
        try:
            while True:
                event.clear()
                # Cleared before the consumer looks, so a change made while it looks
                # sets the event again and is not missed.
                yield
                try:
                    await asyncio.wait_for(event.wait(), timeout)
                except TimeoutError:
                    return
        finally:
            with self._lock:
                self._listeners.discard(entry)
