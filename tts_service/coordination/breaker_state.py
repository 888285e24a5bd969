"""The circuit breaker's state machine as pure steps over a record that can be shared.

The one state machine of :class:`~tts_service.engines.breaker.CircuitBreaker` (read
its module docstring for the states), with its memory in a :class:`BreakerRecord` so the
record can live in memory (one process) or in a database: every process reads it,
applies one step, and writes it back in one transaction. One process's discovery that
Google is down then opens the breaker for all, and only one process in the deployment
probes.

Two things change with sharing:

* the probe slot has a deadline (``probe_timeout_s``): a probing process that dies frees
  it, where an in-process flag would stay set;
* recent failure times (the M-in-a-window rule) are kept in the record, at most
  ``window_failures`` of them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = [
    "Admission",
    "BreakerPolicy",
    "BreakerRecord",
    "BreakerState",
    "Ticket",
    "admit",
    "failed",
    "observe",
    "neutral",
    "succeeded",
]

# Retry hint for callers turned away while the probe runs: it settles within one call.
PROBE_RETRY_AFTER_S = 1.0


class BreakerState(StrEnum):
    """Where a breaker is; the values are what the database, metrics and logs show."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """The thresholds (see :class:`~tts_service.engines.breaker.CircuitBreaker`)."""

    failures: int = 5
    window_failures: int = 10
    window_s: float = 60.0
    cooldown_s: float = 30.0
    max_cooldown_s: float = 600.0
    probe_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if self.failures < 1 or self.window_failures < 1 or self.window_s <= 0:
            raise ValueError("failures and window_failures must be >= 1, window_s > 0")
        if self.cooldown_s <= 0 or self.max_cooldown_s < self.cooldown_s:
            raise ValueError("cooldown_s must be > 0 and max_cooldown_s >= cooldown_s")
        if self.probe_timeout_s <= 0:
            raise ValueError("probe_timeout_s must be > 0")


@dataclass(frozen=True, slots=True)
class BreakerRecord:
    """Everything a breaker remembers; what the database row holds.

    ``generation`` grows on every state change (results of calls admitted before it are
    stale); ``open_for`` is how long the current opening lasts and ``level`` the
    exponential level it doubles from; ``probe_until`` is set while a probe runs.
    """

    state: BreakerState = BreakerState.CLOSED
    generation: int = 0
    consecutive: int = 0
    recent: tuple[float, ...] = ()
    opened_at: float | None = None
    open_for: float = 0.0
    level: float = 0.0
    probe_until: float | None = None

    @classmethod
    def fresh(cls, policy: BreakerPolicy) -> BreakerRecord:
        """A closed breaker with the first cool-down."""
        return cls(open_for=policy.cooldown_s, level=policy.cooldown_s)


@dataclass(frozen=True, slots=True)
class Ticket:
    """An admitted call: the generation it was admitted in, and whether it probes."""

    generation: int
    probe: bool


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer of :func:`admit`: a ticket, or why not and when to try again."""

    ticket: Ticket | None
    retry_after: float = 0.0
    reason: str = ""


def _set(record: BreakerRecord, state: BreakerState) -> BreakerRecord:
    return replace(record, state=state, generation=record.generation + 1, probe_until=None)


def _expire(record: BreakerRecord, now: float) -> BreakerRecord:
    """OPEN becomes HALF_OPEN once the cool-down is over (lazily, when looked at)."""
    if record.state is BreakerState.OPEN and record.opened_at is not None:
        if now - record.opened_at >= record.open_for:
            return _set(record, BreakerState.HALF_OPEN)
    return record


def _open(
    record: BreakerRecord, now: float, policy: BreakerPolicy, *, level: float, hint: float | None
) -> BreakerRecord:
    opened = replace(
        record,
        level=level,
        open_for=min(max(level, hint or 0.0), policy.max_cooldown_s),
        opened_at=now,
        consecutive=0,
        recent=(),
    )
    return _set(opened, BreakerState.OPEN)


def observe(record: BreakerRecord, now: float) -> tuple[BreakerRecord, BreakerState]:
    """The state as of ``now`` (an OPEN breaker past its cool-down reads HALF_OPEN)."""
    record = _expire(record, now)
    return record, record.state


def admit(
    record: BreakerRecord, now: float, policy: BreakerPolicy
) -> tuple[BreakerRecord, Admission]:
    """Let a call through (with a ticket), or say why not and when to try again."""
    record = _expire(record, now)
    if record.state is BreakerState.CLOSED:
        return record, Admission(Ticket(record.generation, probe=False))
    if record.state is BreakerState.HALF_OPEN:
        if record.probe_until is None or now >= record.probe_until:
            probing = replace(record, probe_until=now + policy.probe_timeout_s)
            return probing, Admission(Ticket(record.generation, probe=True))
        return record, Admission(None, PROBE_RETRY_AFTER_S, "a probe call is testing it")
    opened_at = record.opened_at if record.opened_at is not None else now
    retry_after = max(0.0, opened_at + record.open_for - now)
    return record, Admission(
        None, retry_after, f"it failed repeatedly; next try in {retry_after:.1f}s"
    )


def succeeded(
    record: BreakerRecord, ticket: Ticket, policy: BreakerPolicy
) -> tuple[BreakerRecord, None]:
    """A call went well: a probe closes the breaker; any success resets the run of failures."""
    if ticket.generation != record.generation:
        return record, None
    if ticket.probe:
        record = _set(
            replace(record, opened_at=None, level=policy.cooldown_s, open_for=policy.cooldown_s),
            BreakerState.CLOSED,
        )
    return replace(record, consecutive=0), None


def failed(
    record: BreakerRecord,
    ticket: Ticket,
    now: float,
    policy: BreakerPolicy,
    *,
    hint: float | None = None,
    unreachable: bool = False,
) -> tuple[BreakerRecord, bool]:
    """A call failed (the engine kept failing); whether this opened the breaker.

    A failed probe re-opens it for twice the last cool-down (up to the max); otherwise N
    failures in a row, or M within the window, open it for the first cool-down, or for
    the engine's longer ``hint`` (a ``Retry-After``). An ``unreachable`` engine (its host
    does not resolve, the connection is refused) opens it at once: the next call would
    fail the same way.
    """
    if ticket.generation != record.generation:
        return record, False
    if ticket.probe:
        level = min(record.level * 2, policy.max_cooldown_s)
        return _open(record, now, policy, level=level, hint=hint), True
    recent = tuple(t for t in (*record.recent, now) if now - t <= policy.window_s)
    recent = recent[-policy.window_failures :]
    record = replace(record, consecutive=record.consecutive + 1, recent=recent)
    if (
        unreachable
        or record.consecutive >= policy.failures
        or len(recent) >= policy.window_failures
    ):
        return _open(record, now, policy, level=policy.cooldown_s, hint=hint), True
    return record, False


def neutral(record: BreakerRecord, ticket: Ticket) -> tuple[BreakerRecord, None]:
    """A call that says nothing about the engine: a neutral probe frees the probe slot."""
    if ticket.probe and ticket.generation == record.generation:
        return replace(record, probe_until=None), None
    return record, None
