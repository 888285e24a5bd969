"""A circuit breaker per engine, and the wrapper that puts one in front of an engine.

Without it, every chunk of every article pays for the engine's full retry budget while
Google is down (four attempts with backoff, per chunk) before the fallback voice reads it.
With it, once Google has *kept* failing, calls fail at once and the fallback reads
straight away; after a cool-down one probe call tests the water.

States::

                 N consecutive failures, or M within window_s
      CLOSED ───────────────────────────────────────────────▶ OPEN ◀──────────┐
        ▲                                                      │             │
        │ probe succeeds                     cool-down is over │             │ probe fails:
        │                                                      ▼             │ cool-down x2,
        └───────────────────────────────────────────────── HALF_OPEN ────────┘ up to the max

* **CLOSED**: calls go through. A :class:`~tts_service.errors.SynthesisUnavailable` is a
  failure (the engine retries inside, so one reaching us already means "kept failing",
  429s included); a success resets the consecutive count.
* **OPEN**: calls fail fast with ``SynthesisUnavailable(retry_after=<seconds left>)``
  without touching the engine.
* **HALF_OPEN**: the first call is the probe; the others fail fast while it runs. Its
  success closes the breaker and resets the cool-down; its failure re-opens it for twice
  the last cool-down, capped at ``max_cooldown_s``. With ``probe_in_background`` (set when
  a fallback voice follows the engine), the probe runs on a thread of its own and its
  caller fails fast like the others, so no listener waits for the probe: that listener's
  chunk is read by the fallback voice at once.

An error marked ``unreachable`` (the host name does not resolve, the connection is refused)
opens the breaker at once: the next call would fail the same way, so counting up to N
failures would only make N more listeners wait.

Neutral outcomes, which neither count as failures nor close the breaker:
:class:`~tts_service.errors.SynthesisRejected` (permanent, this text's fault),
:class:`~tts_service.errors.RateLimited` (our own throttling, not Google's),
input errors and unexpected exceptions. A neutral probe frees the probe slot for the next
caller.

Results of calls admitted before the latest state change are *stale*: they are counted for
metrics but change no state, so the chunks that were in flight when the breaker opened
cannot re-open it with a doubled cool-down, nor close it.

The state machine itself is :mod:`tts_service.coordination.breaker_state` (pure steps over
a record); the record lives in a :class:`~tts_service.coordination.ports.BreakerStore`: in
memory for one process, in the shared database when several processes serve (one
process's discovery that Google is down then spares the others their retries, and only
one process in the deployment probes). The counters for metrics stay per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TypeVar

from tts_service.audio.format import AudioFormat
from tts_service.coordination import breaker_state as machine
from tts_service.coordination.breaker_state import (
    PROBE_RETRY_AFTER_S,
    BreakerPolicy,
    BreakerRecord,
    BreakerState,
    Ticket,
)
from tts_service.coordination.limiter import BudgetLimiter
from tts_service.coordination.local import LocalBreakerStore
from tts_service.coordination.ports import BreakerStore
from tts_service.engines.base import SpeechEngine
from tts_service.errors import RateLimited, SynthesisUnavailable

__all__ = ["BreakerCounters", "BreakerState", "CircuitBreaker", "GuardedEngine"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class BreakerCounters:
    """A snapshot of a breaker's counters in this process since it was made, for metrics.

    ``calls`` were let through to the engine (probes included); each ends as one of
    ``successes``, ``failures`` or ``neutral``. ``short_circuited`` calls failed fast
    without reaching it. ``opened`` counts transitions to OPEN this process caused,
    re-openings included.
    """

    calls: int = 0
    successes: int = 0
    failures: int = 0
    neutral: int = 0
    short_circuited: int = 0
    opened: int = 0
    probes: int = 0


class CircuitBreaker:
    """A thread-safe circuit breaker (see the module docstring for the states).

    Args:
        failures: consecutive failures that open the breaker (N).
        window_failures: failures within ``window_s`` that open it even when successes
            came in between (M); defaults to ``2 * failures``.
        window_s: the sliding window for ``window_failures``.
        cooldown_s: how long the breaker first stays open.
        max_cooldown_s: the longest cool-down, however often probes fail.
        probe_timeout_s: how long the probe slot stays taken by a probe that never ends
            (its process died): then another call probes.
        clock: wall-clock seconds (the record may be shared by machines); tests pass a
            fake and never sleep.
        name: the guarded engine's name: the record's name in the store, and in messages.
        probe_in_background: run the probe on its own thread and fail its caller fast
            (see the module docstring); for an engine with a fallback behind it.
        store: where the record lives; a new in-memory one by default. Every process
            sharing a store must use the same thresholds.
    """

    def __init__(
        self,
        *,
        failures: int = 5,
        window_failures: int | None = None,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        max_cooldown_s: float = 600.0,
        probe_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        name: str = "engine",
        probe_in_background: bool = False,
        store: BreakerStore | None = None,
    ) -> None:
        if failures < 1:
            raise ValueError(f"failures must be at least 1, got {failures}")
        self.policy = BreakerPolicy(
            failures=failures,
            window_failures=window_failures if window_failures is not None else 2 * failures,
            window_s=window_s,
            cooldown_s=cooldown_s,
            max_cooldown_s=max_cooldown_s,
            probe_timeout_s=probe_timeout_s,
        )
        self.store: BreakerStore = store if store is not None else LocalBreakerStore(self.policy)
        self.name = name
        self.probe_in_background = probe_in_background
        self._clock = clock
        self._lock = threading.Lock()
        # The latest background probe, so tests and close() can wait for it.
        self._probe_thread: threading.Thread | None = None
        self._counts: dict[str, int] = {f.name: 0 for f in fields(BreakerCounters)}

    # -- observation -----------------------------------------------------------------------

    @property
    def failures(self) -> int:
        """Consecutive failures that open the breaker (N)."""
        return self.policy.failures

    @property
    def window_failures(self) -> int:
        """Failures within ``window_s`` that open it (M)."""
        return self.policy.window_failures

    @property
    def window_s(self) -> float:
        """The sliding window of the M-in-a-window rule."""
        return self.policy.window_s

    @property
    def cooldown_s(self) -> float:
        """How long the breaker first stays open."""
        return self.policy.cooldown_s

    @property
    def max_cooldown_s(self) -> float:
        """The longest cool-down."""
        return self.policy.max_cooldown_s

    def _record(self) -> BreakerRecord:
        """The record as of now (an OPEN one past its cool-down reads HALF_OPEN)."""
        now = self._clock()
        return self.store.update(self.name, lambda record: _observed(record, now))

    @property
    def state(self) -> BreakerState:
        """The current state; an OPEN breaker whose cool-down is over reads HALF_OPEN."""
        return self._record().state

    @property
    def opened_at(self) -> float | None:
        """Clock reading when the breaker last opened; ``None`` while it is CLOSED."""
        return self.store.read(self.name).opened_at

    @property
    def cooldown(self) -> float:
        """Seconds the current (or last) opening lasts."""
        return self.store.read(self.name).open_for

    @property
    def counters(self) -> BreakerCounters:
        """A consistent snapshot of this process's counters."""
        with self._lock:
            return BreakerCounters(**self._counts)

    def _count(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._counts[name] += 1

    # -- the state machine's steps ---------------------------------------------------------

    def _admit(self) -> Ticket:
        """Let a call through, or raise :class:`SynthesisUnavailable` to fail it fast."""
        now = self._clock()
        admission = self.store.update(
            self.name, lambda record: machine.admit(record, now, self.policy)
        )
        ticket = admission.ticket
        if ticket is None:
            self._count("short_circuited")
            raise SynthesisUnavailable(
                f"{self.name} is skipped by its circuit breaker: {admission.reason}",
                retry_after=admission.retry_after,
            )
        if ticket.probe:
            self._count("calls", "probes")
            logger.info("%s circuit breaker: half_open, probing", self.name)
        else:
            self._count("calls")
        return ticket

    def _succeeded(self, ticket: Ticket) -> None:
        self._count("successes")
        self.store.update(self.name, lambda record: machine.succeeded(record, ticket, self.policy))
        if ticket.probe:
            logger.warning("%s circuit breaker: the probe succeeded, closed", self.name)

    def _failed(self, ticket: Ticket, error: SynthesisUnavailable) -> None:
        self._count("failures")
        now, hint, unreachable = self._clock(), error.retry_after, error.unreachable
        opened = self.store.update(
            self.name,
            lambda record: machine.failed(
                record, ticket, now, self.policy, hint=hint, unreachable=unreachable
            ),
        )
        if opened:
            self._count("opened")
            logger.warning("%s circuit breaker open for %.1fs", self.name, self.cooldown)

    def _neutral(self, ticket: Ticket) -> None:
        self._count("neutral")
        # A neutral probe told us nothing about the engine: the next call probes.
        self.store.update(self.name, lambda record: machine.neutral(record, ticket))

    # -- use -------------------------------------------------------------------------------

    def call(self, func: Callable[[], _T]) -> _T:
        """Run ``func`` under the breaker: fail fast when open, record how it ended.

        Raises:
            SynthesisUnavailable: the breaker is open (or a probe is running, in this or
                another process); ``func`` is not called. Whatever ``func`` raises is
                re-raised unchanged.
        """
        ticket = self._admit()
        if ticket.probe and self.probe_in_background:
            thread = threading.Thread(
                target=self._probe, args=(ticket, func), name=f"{self.name}-probe", daemon=True
            )
            with self._lock:
                self._probe_thread = thread
            thread.start()
            raise SynthesisUnavailable(
                f"{self.name} is being tested by a probe in the background; the fallback reads",
                retry_after=PROBE_RETRY_AFTER_S,
            )
        return self._run(ticket, func)

    def _run(self, ticket: Ticket, func: Callable[[], _T]) -> _T:
        """Call ``func`` for an admitted ticket and record how it ended."""
        try:
            result = func()
        except RateLimited:
            self._neutral(ticket)
            raise
        except SynthesisUnavailable as exc:
            self._failed(ticket, exc)
            raise
        except BaseException:
            self._neutral(ticket)
            raise
        self._succeeded(ticket)
        return result

    def _probe(self, ticket: Ticket, func: Callable[[], object]) -> None:
        """A background probe: its outcome moves the state; its result is not needed."""
        try:
            self._run(ticket, func)
        except Exception as exc:  # recorded by _run; a probe's thread has no one to tell
            logger.info("%s background probe failed: %s", self.name, exc)

    def wait_probe(self, timeout: float | None = None) -> bool:
        """Wait for this process's latest background probe to end; True when none runs."""
        with self._lock:
            thread = self._probe_thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def available(self) -> bool:
        """Whether a call now would reach the engine (CLOSED), rather than fail fast.

        A HALF_OPEN breaker with a background probe counts as unavailable: its callers are
        answered by the fallback until the probe has closed it.
        """
        now = self._clock()
        record = self._record()
        if record.state is BreakerState.CLOSED:
            return True
        probing = record.probe_until is not None and now < record.probe_until
        return (
            record.state is BreakerState.HALF_OPEN and not self.probe_in_background and not probing
        )


def _observed(record: BreakerRecord, now: float) -> tuple[BreakerRecord, BreakerRecord]:
    """:func:`~tts_service.coordination.breaker_state.observe`, answering the record."""
    record, _ = machine.observe(record, now)
    return record, record


class GuardedEngine:
    """A :class:`~tts_service.engines.base.SpeechEngine` behind a circuit breaker.

    It sounds exactly like the engine it wraps: same name, voice and ``sound_params``, so
    cache keys do not change when a breaker is added or removed.

    Args:
        engine: the engine to guard.
        breaker: its circuit breaker (one per engine).
        limiter: the rate limiter the engine's ``before_request`` hook draws from, if any;
            held here so that :meth:`close` wakes its waiters and metrics can read it.
    """

    def __init__(
        self,
        engine: SpeechEngine,
        breaker: CircuitBreaker,
        *,
        limiter: BudgetLimiter | None = None,
    ) -> None:
        self.engine = engine
        self.breaker = breaker
        self.limiter = limiter
        self.name: str = engine.name
        self.voice: str = engine.voice
        self.max_chars: int = engine.max_chars
        self.audio_format: AudioFormat = engine.audio_format
        self.concurrency: int = engine.concurrency

    @property
    def sound_params(self) -> Mapping[str, str]:
        """The wrapped engine's: a breaker changes when audio is made, not how it sounds."""
        return self.engine.sound_params

    @property
    def available(self) -> bool:
        """Whether this engine would be called now (its breaker lets calls through)."""
        return self.breaker.available

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:
        """The wrapped engine's audio, or a fast :class:`SynthesisUnavailable` when open."""
        return self.breaker.call(lambda: self.engine.synthesize(text, voice=voice))

    def close(self) -> None:
        """Wake callers waiting for a rate-limit token, then close the wrapped engine."""
        if self.limiter is not None:
            self.limiter.close()
        close = getattr(self.engine, "close", None)
        if callable(close):
            close()
        # A background probe ends soon once the engine is closed (its retries are cut).
        self.breaker.wait_probe(timeout=5.0)
