"""Give memory back to the system after load: glibc's allocator, tuned at start and trimmed.

The soak benchmark (bench/bench_soak.py) showed the service's RSS rising for the first
two thirds of a run and staying there once the load had stopped, while Python's own heap
stayed flat. The bytes were free, but glibc kept them:

- MP3 buffers of a few hundred KB to a few MB (an article being assembled) are first
  served by ``mmap`` and given back on ``free``; but glibc then *raises* its mmap
  threshold to the size just freed, so later buffers of that size come from the heap,
  where a small live object above them keeps the whole span from being returned. A
  fixed threshold (setting it turns the dynamic one off) keeps big buffers on ``mmap``.
- Each thread that allocates may get an arena of its own (up to 8 per core), each with its
  own free space: two arenas are plenty for a process whose CPU work is in other
  processes and C calls.
- What is still free inside the heap is returned by ``malloc_trim(0)``, which since glibc
  2.8 also releases whole free pages in the middle of the heap, not only at its top.

All of it is glibc's: on another C library (musl in an Alpine image, macOS) these calls are
absent and every function here does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from functools import lru_cache
from typing import Any

__all__ = ["MemoryTrimmer", "trim", "tune_allocator"]

logger = logging.getLogger(__name__)

# mallopt() parameters, from glibc's <malloc.h>.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Buffers from 256 KiB up (a long chunk, an article's MP3) get pages of their own.
_MMAP_THRESHOLD = 256 * 1024
_ARENAS = 2


@lru_cache(maxsize=1)
def _libc() -> Any | None:
    """glibc, when this process runs on it; None elsewhere."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    return libc


def tune_allocator() -> bool:
    """Fix glibc's mmap threshold and cap its arenas; False when not on glibc.

    Call it early, before the worker threads start: arenas already made are kept.
    """
    libc = _libc()
    if libc is None:
        logger.info("not on glibc: the allocator is left as it is")
        return False
    # mallopt returns 1 on success, 0 on error.
    ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD))
    ok = bool(libc.mallopt(_M_ARENA_MAX, _ARENAS)) and ok
    return ok


def trim() -> bool:
    """Return the allocator's free memory to the system; True when some was returned."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


class MemoryTrimmer:
    """A daemon thread that calls :func:`trim` every ``interval_s`` seconds until closed.

    A trim walks the heap once (milliseconds for a few hundred MB) and takes the arenas'
    locks meanwhile, so it runs on a timer, not after every request.
    """

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        self.interval_s = interval_s
        self.trims = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tts-memory-trim", daemon=True)

    def start(self) -> None:
        """Start trimming."""
        self._thread.start()

    def close(self) -> None:
        """Stop; returns at once (the thread only ever waits on the stop event)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            trim()
            self.trims += 1
