"""A synthesis job: the live state of one article being read, shared by its listeners.

The job's worker thread publishes the article as it is made: its ID3 tag, then one
:class:`~tts_service.live.Piece` per chunk (the chunk's cache key and the pause before
it). The audio itself is in the cache, not here: listeners follow the stored chunks
(:func:`tts_service.live.follow`), so a job holds a few bytes per chunk however long its
article, and memory grows with listeners, not with article sizes. Only a chunk the cache
would not keep (a full disk) is kept in the job, so its listeners still get it.

Listeners on the event loop are woken with ``loop.call_soon_threadsafe``, so a stream
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
from tts_service.live import Piece
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
    """One article being synthesised under the id of its primary plan.

    It is a :class:`~tts_service.live.Track`: what its listeners follow.
    """

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
    # Order of admission: jobs waiting for their first chunk are served in this order.
    seq: int = 0
    result_key: str | None = None
    error: SynthesisError | None = None
    duration: float = 0.0
    # Bytes of the article so far (tag, pauses and frames).
    size: int = 0
    finished_at: float | None = None
    # Set when the finished audio could not be written (disk full): storing it again once
    # space returns. Returns True when it is stored.
    retry_store: Callable[[], bool] | None = None
    _header: bytes = b""
    _pieces: list[Piece] = field(default_factory=list)
    # Chunks the cache refused (a full disk), by key: the stream and a later store need them.
    _kept: dict[str, bytes] = field(default_factory=dict)
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
        """True once the first chunk's audio (not just the tag) is in the stream, or the
        job ended."""
        return self._first_chunk.is_set()

    @property
    def listening(self) -> int:
        """How many listeners are waiting on or following this job right now."""
        with self._lock:
            return len(self._listeners)

    @property
    def header(self) -> bytes:
        """The bytes that open the article: its ID3 tag."""
        return self._header

    # -- written by the worker thread --------------------------------------------------

    def begin(self, header: bytes) -> None:
        """Set the article's opening bytes (before any piece)."""
        with self._lock:
            self._header = header
            self.size = len(header)

    def append(self, piece: Piece, size: int) -> None:
        """Publish the next chunk (``size`` bytes with its pause) and wake every listener."""
        with self._lock:
            self._pieces.append(piece)
            self.size += size
        self._first_chunk.set()
        self._notify()

    def keep(self, key: str, frames: bytes) -> None:
        """Hold a chunk the cache did not store, for this job's listeners and its store."""
        with self._lock:
            self._kept[key] = frames

    def kept(self, key: str) -> bytes | None:
        """A chunk held by :meth:`keep`, if any."""
        with self._lock:
            return self._kept.get(key)

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

    def pieces_from(self, start: int) -> tuple[list[Piece], bool]:
        """The pieces published from index ``start`` on, and whether the job has ended
        (both read at once, so an ended job's list is complete)."""
        with self._lock:
            return self._pieces[start:], self.state is not JobState.PENDING

    def wait(self, timeout: float | None = None) -> bool:
        """Block this thread until the job is ready or failed; False on timeout."""
        return self._done.wait(timeout)

    async def wait_started(self, timeout: float | None) -> bool:
        """Wait until the first chunk (or the end) arrived; False on timeout.

        ``None`` waits as long as the job is queued: it will start, or end.
        """
        async for _ in self.changes(timeout):
            if self.started:
                return True
        return self.started

    async def wait_finished(self, timeout: float) -> bool:
        """Wait until the job is ready or failed; False on timeout."""
        async for _ in self.changes(timeout):
            if self.state is not JobState.PENDING:
                return True
        return self.state is not JobState.PENDING

    async def changes(self, timeout: float | None) -> AsyncIterator[None]:
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
