"""Coordination between the service's processes: single flight, Google's budget, the breaker.

Ports in :mod:`~tts_service.coordination.ports`; in-process implementations in
:mod:`~tts_service.coordination.local` (one process, today's behaviour) and database ones
in :mod:`~tts_service.coordination.sql` (PostgreSQL or SQLite, shared by every process).
:mod:`~tts_service.coordination.runtime` builds the one a process runs with from the
settings; docs/cluster.md says how they fit.
"""

from __future__ import annotations

from tts_service.coordination.breaker_state import BreakerPolicy, BreakerRecord, BreakerState
from tts_service.coordination.local import LocalBreakerStore, LocalLeases, LocalRateBudget
from tts_service.coordination.notify import LocalNotifier
from tts_service.coordination.ports import (
    BreakerStore,
    Grant,
    Lease,
    Leases,
    Notifier,
    RateBudget,
    Subscription,
)

__all__ = [
    "BreakerPolicy",
    "BreakerRecord",
    "BreakerState",
    "BreakerStore",
    "Grant",
    "Lease",
    "Leases",
    "LocalBreakerStore",
    "LocalLeases",
    "LocalNotifier",
    "LocalRateBudget",
    "Notifier",
    "RateBudget",
    "Subscription",
]
