"""``acquire(timeout)`` over a shared :class:`RateBudget`: the engine's ``before_request``.

The same contract as :class:`~tts_service.engines.ratelimit.RateLimiter` (arrival order
for listeners, the reserve and the lane re-check for background work, refusal at once
when the token would come too late, ``close`` waking every waiter), with the bucket
itself in a :class:`~tts_service.coordination.ports.RateBudget`, so it is shared by
every process of the deployment when that budget is a
:class:`~tts_service.coordination.sql.SqlRateBudget`. The wiring session gives
``GTTSEngine`` one of these in place of its ``RateLimiter``.
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

# A background request waiting for a spare token looks at its lane (and at the shared
# bucket: one database read) at least this often.
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
