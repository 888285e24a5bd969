"""``acquire(timeout)`` over a :class:`RateBudget`: the cap on requests sent to Google.

One :class:`BudgetLimiter` per process is shared by every article and every engine thread;
its bucket is a :class:`~tts_service.coordination.ports.RateBudget`: this process's
(:class:`~tts_service.coordination.local.LocalRateBudget`) or, when several processes
serve, the deployment's (:class:`~tts_service.coordination.sql.SqlRateBudget`, one row),
so ``TTS_GTTS_REQUESTS_PER_MINUTE`` is the total however many processes there are. It
counts HTTP requests, not chunks: :class:`~tts_service.engines.gtts_engine.GTTSEngine`
calls :meth:`BudgetLimiter.acquire` through its ``before_request`` hook before *each*
attempt, retries included, because every retry is one more request against Google's quota.

Guarantee: over any interval of ``T`` seconds, at most ``burst + rate * T`` tokens are
handed out (``rate`` in tokens a second).

Waiting callers *reserve* their token (the bucket goes below zero) and then wait for their
own moment, so they are served in arrival order and nobody wakes just to find the token
taken. A caller whose moment would come later than its ``timeout`` is refused at once with
:class:`~tts_service.errors.RateLimited` instead of blocking only to fail; the chain's
fallback voice can read that chunk now.

Listeners come first. Work running in the background lane (registry jobs, see
:mod:`tts_service.lanes`) never reserves: it takes a token only while the bucket holds more
than ``reserve`` of them, and otherwise waits for the refill. So a back catalogue spends the
sustained rate but leaves the top of the bucket to listeners, and a listener's reservation
always goes ahead of every waiting background request: with the defaults (300 a minute,
burst 60, reserve 15) a new listener's first 15 requests go out at once however long the
catalogue is, in any process of the deployment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tts_service.coordination.ports import RateBudget
from tts_service.errors import RateLimited, SynthesisUnavailable
from tts_service.lanes import Lane, current_lane

__all__ = ["BudgetLimiter"]

logger = logging.getLogger(__name__)

# A background chunk waiting for a spare token looks at its lane (and at the bucket: one
# database statement when shared) at least this often, so one a listener starts waiting
# for (promoted) is served as a listener's within this time.
LANE_CHECK_S = 0.2


class BudgetLimiter:
    """Blocks a caller until the shared budget gives it a token, or refuses it.

    Args:
        budget: the bucket (local or shared).
        clock: monotonic seconds for this process's own waiting; tests pass a fake.
        wait: blocks up to the given seconds, returning early if it likes; defaults to
            waiting on the close event, so :meth:`close` wakes every waiter.
    """

    def __init__(
        self,
        budget: RateBudget,
        *,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self.budget = budget
        self._clock = clock
        self._closed = threading.Event()
        self._wait = wait if wait is not None else self._closed.wait
        self._lock = threading.Lock()
        self._granted = 0
        self._refused = 0
        self._waiting = 0

    @property
    def per_minute(self) -> float:
        """Tokens a minute."""
        return self.budget.per_minute

    @property
    def rate(self) -> float:
        """Tokens a second."""
        return self.budget.per_minute / 60.0

    @property
    def burst(self) -> int:
        """The most tokens handed out back to back after a quiet spell."""
        return self.budget.burst

    @property
    def reserve(self) -> int:
        """Tokens background work leaves in the bucket for listeners."""
        return self.budget.reserve

    @property
    def granted(self) -> int:
        """Tokens this process was given so far."""
        with self._lock:
            return self._granted

    @property
    def refused(self) -> int:
        """Callers of this process refused with :class:`RateLimited` so far."""
        with self._lock:
            return self._refused

    @property
    def waiting(self) -> int:
        """Callers of this process blocked right now."""
        with self._lock:
            return self._waiting

    def _count(self, *, granted: int = 0, refused: int = 0, waiting: int = 0) -> None:
        with self._lock:
            self._granted += granted
            self._refused += refused
            self._waiting += waiting

    def _refuse(self, delay: float) -> RateLimited:
        self._count(refused=1)
        return RateLimited(
            f"over {self.budget.per_minute:g} Google requests a minute; next slot in {delay:.1f}s",
            retry_after=delay,
        )

    def acquire(self, timeout: float) -> None:
        """Take one token, blocking until it is due; at most ``timeout`` seconds.

        Raises:
            RateLimited: the token would be due later than ``timeout`` (nothing taken).
            SynthesisUnavailable: the limiter was closed (or the shared budget cannot be
                reached: a :class:`~tts_service.coordination.sql.CoordinationUnavailable`).
        """
        if self._closed.is_set():
            raise SynthesisUnavailable("rate limiter is closed")
        if current_lane() is Lane.BACKGROUND:
            self._acquire_spare(timeout)
        else:
            self._acquire(timeout)

    def _acquire(self, timeout: float) -> None:
        grant = self.budget.take(listener=True, max_wait_s=timeout)
        if not grant.taken:
            raise self._refuse(grant.wait_s)
        self._count(granted=1)
        if grant.wait_s <= 0.0:
            return
        logger.debug("rate limit: waiting %.2fs for a token", grant.wait_s)
        self._count(waiting=1)
        try:
            self._wait_until(self._clock() + grant.wait_s)
        finally:
            self._count(waiting=-1)

    def _acquire_spare(self, timeout: float) -> None:
        deadline = self._clock() + timeout
        waiting = False
        try:
            while True:
                if self._closed.is_set():
                    raise SynthesisUnavailable("rate limiter was closed while waiting")
                if current_lane() is Lane.LISTENER:
                    self._acquire(max(0.0, deadline - self._clock()))
                    return
                grant = self.budget.take(listener=False, max_wait_s=0.0)
                if grant.taken:
                    self._count(granted=1)
                    return
                if self._clock() + grant.wait_s > deadline:
                    raise self._refuse(grant.wait_s)
                if not waiting:
                    self._count(waiting=1)
                    waiting = True
                self._wait(min(grant.wait_s, LANE_CHECK_S))
        finally:
            if waiting:
                self._count(waiting=-1)

    def _wait_until(self, due: float) -> None:
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
