"""A fake monotonic clock for tests of time-driven code (breaker cool-downs, rate limits).

It ships with the package, like :mod:`tts_service.testing.fake_google`, so tests never
sleep to let time pass: they advance this clock.
"""

from __future__ import annotations

import threading

__all__ = ["FakeClock"]


class FakeClock:
    """Seconds that move only when a test advances them, or, with ``auto``, when waited on.

    ``wait`` stands in for the limiter's Event wait: with ``auto`` it moves time forward by
    the wait (single-threaded tests); otherwise it blocks on a condition until a test
    advances the clock far enough, with a real-time safety net so a bug cannot hang the run.
    """

    def __init__(self, start: float = 1000.0, *, auto: bool = False) -> None:
        self.now = start
        self.auto = auto
        self.waits: list[float] = []
        self.sleepers = 0
        self._changed = threading.Condition()

    def __call__(self) -> float:
        with self._changed:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._changed:
            self.now += seconds
            self._changed.notify_all()

    def wait(self, seconds: float) -> bool:
        with self._changed:
            self.waits.append(seconds)
            if self.auto:
                self.now += seconds
                return False
            target = self.now + seconds
            self.sleepers += 1
            self._changed.notify_all()
            try:
                if not self._changed.wait_for(lambda: self.now >= target, timeout=5):
                    raise AssertionError("nobody advanced the fake clock")
            finally:
                self.sleepers -= 1
                self._changed.notify_all()
            return False

    def wait_for_sleepers(self, n: int) -> bool:
        """Block until exactly ``n`` threads are waiting on this clock."""
        with self._changed:
            return self._changed.wait_for(lambda: self.sleepers == n, timeout=5)
