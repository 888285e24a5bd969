"""A token bucket that caps how many requests per minute the service sends to Google.

One :class:`RateLimiter` is shared by every article and every engine thread, so the cap
holds for the whole process however many listeners there are. It counts HTTP requests, not
chunks: :class:`~tts_service.engines.gtts_engine.GTTSEngine` calls :meth:`RateLimiter.acquire`
through its ``before_request`` hook before *each* attempt, retries included, because every
retry is one more request against Google's quota.

Guarantee: over any interval of ``T`` seconds, at most ``burst + rate * T`` tokens are
handed out (``rate`` in tokens a second).

Waiting callers *reserve* their token (the bucket goes below zero) and then wait for their
own moment, so they are served in arrival order and nobody wakes just to find the token
taken. A caller whose moment would come later than its ``timeout`` is refused at once with
:class:`RateLimited` instead of blocking only to fail; the chain's fallback voice can read
that chunk now.

Listeners come first. Work running in the background lane (registry jobs, see
:mod:`tts_service.lanes`) never reserves: it takes a token only while the bucket holds more
than ``reserve`` of them, and otherwise waits for the refill. So a back catalogue spends the
sustained rate but leaves the top of the bucket to listeners, and a listener's reservation
always goes ahead of every waiting background request: with the defaults (300 a minute,
burst 60, reserve 15) a new listener's first 15 requests go out at once however long the
catalogue is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tts_service.errors import RateLimited, SynthesisUnavailable
from tts_service.lanes import Lane, current_lane

__all__ = ["RateLimited", "RateLimiter"]

logger = logging.getLogger(__name__)

# A background chunk waiting for a token looks at its lane at least this often, so one a
# listener starts waiting for (promoted) is served as a listener's within this time.
LANE_CHECK_S = 0.2


class RateLimiter:
    """A thread-safe token bucket: ``per_minute`` tokens a minute, ``burst`` at most at once.

    Args:
        per_minute: tokens added a minute; must be > 0 (callers skip the limiter for
            "unlimited").
        burst: bucket size, the most tokens handed out back to back after a quiet spell.
            Defaults to one second's worth (at least 1), so a ``per_minute`` budget is not
            spent in the first instant of the minute.
        reserve: tokens background work leaves in the bucket for listeners; defaults to a
            quarter of ``burst`` and is at most ``burst - 1``.
        clock: monotonic seconds; tests pass a fake.
        wait: blocks for up to the given seconds, returning early if it likes (it is called
            again until the clock reaches the caller's moment). The default waits on the
            limiter's close event, so :meth:`close` wakes every waiter; tests pass a fake
            clock's wait. It must not be :func:`time.sleep` in tests.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst: int | None = None,
        reserve: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be > 0, got {per_minute}")
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.burst = burst if burst is not None else max(1, int(self.rate))
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst}")
        wanted = reserve if reserve is not None else self.burst // 4
        self.reserve = max(0, min(wanted, self.burst - 1))
        self._clock = clock
        self._closed = threading.Event()
        self._wait = wait if wait is not None else self._closed.wait
        self._lock = threading.Lock()
        # Below zero when callers hold reservations for tokens not yet refilled.
        self._tokens = float(self.burst)
        self._updated = clock()
        self._granted = 0
        self._refused = 0
        self._waiting = 0

    # -- counters (for metrics) ------------------------------------------------------------

    @property
    def granted(self) -> int:
        """Tokens handed out so far (reserved ones included)."""
        with self._lock:
            return self._granted

    @property
    def refused(self) -> int:
        """Callers refused with :class:`RateLimited` so far."""
        with self._lock:
            return self._refused

    @property
    def waiting(self) -> int:
        """Callers blocked right now until their reserved token is due."""
        with self._lock:
            return self._waiting

    # -- the bucket ------------------------------------------------------------------------

    def _refill(self, now: float) -> None:
        """Add the tokens earned since the last look, up to ``burst``; call under the lock."""
        # max(): a clock that steps back (a fake, or a bug) must not drain the bucket.
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = max(self._updated, now)

    def acquire(self, timeout: float) -> None:
        """Take one token, blocking until it is due; blocking at most ``timeout`` seconds.

        A caller in the background lane (:func:`~tts_service.lanes.current_lane`) takes
        only tokens above ``reserve`` and waits behind every listener.

        Raises:
            RateLimited: the token would be due in more than ``timeout`` seconds;
                ``retry_after`` says when one will be (nothing is reserved).
            SynthesisUnavailable: the limiter was closed while waiting.
        """
        if self._closed.is_set():
            raise SynthesisUnavailable("rate limiter is closed")
        if current_lane() is Lane.BACKGROUND:
            self._acquire_spare(timeout)
        else:
            self._acquire(timeout)

    def _refuse(self, delay: float) -> RateLimited:
        """Count a refusal; the error to raise (call under the lock)."""
        self._refused += 1
        return RateLimited(
            f"over {self.per_minute:g} Google requests a minute; next slot in {delay:.1f}s",
            retry_after=delay,
        )

    def _acquire(self, timeout: float) -> None:
        """A listener's token: reserved now, in arrival order, waited for if need be."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            delay = max(0.0, (1.0 - self._tokens) / self.rate)
            if delay > timeout:
                raise self._refuse(delay)
            self._tokens -= 1.0
            self._granted += 1
            if delay <= 0.0:
                return
            self._waiting += 1
        due = now + delay
        logger.debug("rate limit: waiting %.2fs for a token", delay)
        try:
            self._wait_until(due)
        finally:
            with self._lock:
                self._waiting -= 1

    def _acquire_spare(self, timeout: float) -> None:
        """A background token: taken only above ``reserve``, never reserved ahead.

        Re-checks the lane every ``LANE_CHECK_S`` at most: a chunk promoted while it waits
        (a listener opened its article) becomes a listener's request from then on.
        """
        deadline = self._clock() + timeout
        waiting = False
        try:
            while True:
                if self._closed.is_set():
                    raise SynthesisUnavailable("rate limiter was closed while waiting")
                if current_lane() is Lane.LISTENER:
                    self._acquire(max(0.0, deadline - self._clock()))
                    return
                with self._lock:
                    now = self._clock()
                    self._refill(now)
                    delay = max(0.0, (1.0 + self.reserve - self._tokens) / self.rate)
                    if delay <= 0.0:
                        self._tokens -= 1.0
                        self._granted += 1
                        return
                    if now + delay > deadline:
                        raise self._refuse(delay)
                    if not waiting:
                        self._waiting += 1
                        waiting = True
                self._wait(min(delay, LANE_CHECK_S))
        finally:
            if waiting:
                with self._lock:
                    self._waiting -= 1

    def _wait_until(self, due: float) -> None:
        """Block until the clock reaches ``due`` (waits may end early; loop until then)."""
        while True:
            remaining = due - self._clock()
            if remaining <= 0.0:
                return
            if self._closed.is_set():
                raise SynthesisUnavailable("rate limiter was closed while waiting")
            self._wait(remaining)

    def hook(self, timeout: float) -> Callable[[], None]:
        """An ``acquire(timeout)`` with no arguments, for an engine's ``before_request``."""

        def before_request() -> None:
            self.acquire(timeout)

        return before_request

    def close(self) -> None:
        """Wake every waiter (they raise) and refuse further calls; idempotent."""
        self._closed.set()
