"""Coordination within one process: dicts and locks, what the service does today.

The default when the service runs alone (``TTS_DATABASE_URL`` unset, one process); the
contract suite runs it beside the database implementations, so both mean the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tts_service.coordination.breaker_state import BreakerPolicy, BreakerRecord
from tts_service.coordination.budget import BucketConfig, refilled
from tts_service.coordination.ports import Grant, Lease

__all__ = ["LocalBreakerStore", "LocalLeases", "LocalRateBudget"]

_T = TypeVar("_T")


class LocalLeases:
    """:class:`~tts_service.coordination.ports.Leases` in a dict."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, Lease] = {}

    def claim(self, name: str, owner: str, *, ttl_s: float) -> Lease | None:
        with self._lock:
            now = self._clock()
            current = self._held.get(name)
            if current is not None and current.expires_at > now:
                return None
            # As the lease rows: a take-over bumps the generation, a release forgets it
            # (owners are unique, so owner + generation still identify a claim).
            generation = 1 if current is None else current.generation + 1
            lease = Lease(name, owner, generation, now + ttl_s)
            self._held[name] = lease
            return lease

    def renew(self, lease: Lease, *, ttl_s: float) -> Lease | None:
        with self._lock:
            current = self._held.get(lease.name)
            if current is None or (current.owner, current.generation) != (
                lease.owner,
                lease.generation,
            ):
                return None
            renewed = Lease(lease.name, lease.owner, lease.generation, self._clock() + ttl_s)
            self._held[lease.name] = renewed
            return renewed

    def release(self, lease: Lease) -> bool:
        with self._lock:
            current = self._held.get(lease.name)
            if current is None or (current.owner, current.generation) != (
                lease.owner,
                lease.generation,
            ):
                return False
            del self._held[lease.name]
            return True

    def holder(self, name: str) -> Lease | None:
        with self._lock:
            current = self._held.get(name)
            if current is None or current.expires_at <= self._clock():
                return None
            return current

    def purge(self, expired_before: float) -> int:
        with self._lock:
            old = [name for name, lease in self._held.items() if lease.expires_at < expired_before]
            for name in old:
                del self._held[name]
            return len(old)


class LocalRateBudget:
    """:class:`~tts_service.coordination.ports.RateBudget` in memory, for one process."""

    def __init__(
        self,
        per_minute: float,
        *,
        burst: int | None = None,
        reserve: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = BucketConfig.of(per_minute, burst=burst, reserve=reserve)
        self.per_minute = self.config.per_minute
        self.burst = self.config.burst
        self.reserve = self.config.reserve
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()

    def take(self, *, listener: bool, max_wait_s: float) -> Grant:
        with self._lock:
            now = self._clock()
            tokens = refilled(self._tokens, self._updated, now, self.config)
            self._tokens, self._updated = tokens, max(self._updated, now)
            rate = self.config.rate
            if listener:
                wait = max(0.0, (1.0 - tokens) / rate)
                if wait > max_wait_s:
                    return Grant(False, wait)
                self._tokens -= 1.0
                return Grant(True, wait)
            if tokens >= 1.0 + self.reserve:
                self._tokens -= 1.0
                return Grant(True, 0.0)
            return Grant(False, (1.0 + self.reserve - tokens) / rate)


class LocalBreakerStore:
    """:class:`~tts_service.coordination.ports.BreakerStore` in a dict, under a lock."""

    def __init__(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._records: dict[str, BreakerRecord] = {}

    def update(self, name: str, step: Callable[[BreakerRecord], tuple[BreakerRecord, _T]]) -> _T:
        with self._lock:
            record, result = step(self._records.get(name) or BreakerRecord.fresh(self.policy))
            self._records[name] = record
            return result

    def read(self, name: str) -> BreakerRecord:
        with self._lock:
            return self._records.get(name) or BreakerRecord.fresh(self.policy)
