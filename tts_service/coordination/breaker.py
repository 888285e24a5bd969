"""A circuit breaker whose state is shared through a :class:`BreakerStore`.

The same contract as :class:`~tts_service.engines.breaker.CircuitBreaker` (``call``,
``state``; what counts as a failure, a success or neutral), with the record kept in a
store: :class:`~tts_service.coordination.local.LocalBreakerStore` for one process,
:class:`~tts_service.coordination.sql.SqlBreakerStore` for a deployment. The wiring
session makes ``CircuitBreaker`` this class over a local store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tts_service.coordination import breaker_state as machine
from tts_service.coordination.breaker_state import BreakerPolicy, BreakerState, Ticket
from tts_service.coordination.ports import BreakerStore
from tts_service.errors import RateLimited, SynthesisUnavailable

__all__ = ["SharedBreaker"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class SharedBreaker:
    """Fails calls fast while the engine is known, deployment-wide, to be down.

    Args:
        store: where the record lives.
        name: the guarded engine's name (the record's key, and in messages).
        policy: the thresholds; every process must use the same.
        clock: wall-clock seconds; tests pass a fake.
    """

    def __init__(
        self,
        store: BreakerStore,
        name: str,
        policy: BreakerPolicy,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.name = name
        self.policy = policy
        self._clock = clock

    @property
    def state(self) -> BreakerState:
        """The state now (an OPEN breaker past its cool-down reads HALF_OPEN)."""
        now = self._clock()
        return self.store.update(self.name, lambda record: machine.observe(record, now))

    def _admit(self) -> Ticket:
        now = self._clock()
        admission = self.store.update(
            self.name, lambda record: machine.admit(record, now, self.policy)
        )
        if admission.ticket is None:
            raise SynthesisUnavailable(
                f"{self.name} is skipped by its circuit breaker: {admission.reason}",
                retry_after=admission.retry_after,
            )
        return admission.ticket

    def call(self, func: Callable[[], _T]) -> _T:
        """Run ``func`` under the breaker: fail fast when open, record how it ended.

        Raises:
            SynthesisUnavailable: the breaker is open (or another process probes);
                ``func`` is not called. Whatever ``func`` raises is re-raised unchanged.
        """
        ticket = self._admit()
        try:
            result = func()
        except RateLimited:
            self.store.update(self.name, lambda record: machine.neutral(record, ticket))
            raise
        except SynthesisUnavailable as exc:
            now, hint = self._clock(), exc.retry_after
            opened = self.store.update(
                self.name,
                lambda record: machine.failed(record, ticket, now, self.policy, hint=hint),
            )
            if opened:
                logger.warning("%s circuit breaker opened for every process", self.name)
            raise
        except BaseException:
            self.store.update(self.name, lambda record: machine.neutral(record, ticket))
            raise
        self.store.update(self.name, lambda record: machine.succeeded(record, ticket, self.policy))
        return result
