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
:class:`~tts_service.engines.ratelimit.RateLimited` (our own throttling, not Google's),
input errors and unexpected exceptions. A neutral probe frees the probe slot for the next
caller.

Results of calls admitted before the latest state change are *stale*: they are counted for
metrics but change no state, so the chunks that were in flight when the breaker opened
cannot re-open it with a doubled cool-down, nor close it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TypeVar

from tts_service.audio.format import AudioFormat
from tts_service.engines.base import SpeechEngine
from tts_service.engines.ratelimit import RateLimited, RateLimiter
from tts_service.errors import SynthesisUnavailable

__all__ = ["BreakerCounters", "BreakerState", "CircuitBreaker", "GuardedEngine"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# Retry hint for callers turned away while the probe runs: the probe settles within one
# engine call, so the answer is usually known within about a second.
_PROBE_RETRY_AFTER_S = 1.0


class BreakerState(StrEnum):
    """Where a breaker is; the values are what metrics and logs show."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerCounters:
    """A snapshot of a breaker's counters since it was made, for metrics.

    ``calls`` were let through to the engine (probes included); each ends as one of
    ``successes``, ``failures`` or ``neutral``. ``short_circuited`` calls failed fast
    without reaching it. ``opened`` counts transitions to OPEN, re-openings included.
    """

    calls: int = 0
    successes: int = 0
    failures: int = 0
    neutral: int = 0
    short_circuited: int = 0
    opened: int = 0
    probes: int = 0


@dataclass(frozen=True, slots=True)
class _Ticket:
    """What the breaker remembers about an admitted call: when, and whether it probes."""

    generation: int
    probe: bool


class CircuitBreaker:
    """A thread-safe circuit breaker (see the module docstring for the states).

    Args:
        failures: consecutive failures that open the breaker (N).
        window_failures: failures within ``window_s`` that open it even when successes
            came in between (M), for an engine that fails every other call; defaults to
            ``2 * failures``.
        window_s: the sliding window for ``window_failures``.
        cooldown_s: how long the breaker first stays open.
        max_cooldown_s: the longest cool-down, however often probes fail.
        clock: monotonic seconds; tests pass a fake and never sleep.
        name: the guarded engine's name, for messages and logs.
        probe_in_background: run the probe on its own thread and fail its caller fast
            (see the module docstring); for an engine with a fallback behind it.
    """

    def __init__(
        self,
        *,
        failures: int = 5,
        window_failures: int | None = None,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        max_cooldown_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "engine",
        probe_in_background: bool = False,
    ) -> None:
        if failures < 1:
            raise ValueError(f"failures must be at least 1, got {failures}")
        window_failures = window_failures if window_failures is not None else 2 * failures
        if window_failures < 1 or window_s <= 0:
            raise ValueError("window_failures must be at least 1 and window_s > 0")
        if cooldown_s <= 0 or max_cooldown_s < cooldown_s:
            raise ValueError("cooldown_s must be > 0 and max_cooldown_s >= cooldown_s")
        self.failures = failures
        self.window_failures = window_failures
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self.name = name
        self.probe_in_background = probe_in_background
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        # Bumped on every state change; tickets from older generations are stale.
        self._generation = 0
        self._consecutive = 0
        self._recent: deque[float] = deque()
        self._opened_at: float | None = None
        # How long the current (or last) opening lasts, and the exponential level it
        # doubles from; they differ when the engine asked for a longer wait.
        self._open_for = cooldown_s
        self._level = cooldown_s
        self._probing = False
        # The latest background probe, so tests and close() can wait for it.
        self._probe_thread: threading.Thread | None = None
        self._counts: dict[str, int] = {f.name: 0 for f in fields(BreakerCounters)}

    # -- observation -----------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state; an OPEN breaker whose cool-down is over reads HALF_OPEN."""
        with self._lock:
            self._expire(self._clock())
            return self._state

    @property
    def opened_at(self) -> float | None:
        """Clock reading when the breaker last opened; ``None`` while it is CLOSED."""
        with self._lock:
            return self._opened_at

    @property
    def cooldown(self) -> float:
        """Seconds the current (or last) opening lasts."""
        with self._lock:
            return self._open_for

    @property
    def counters(self) -> BreakerCounters:
        """A consistent snapshot of the counters."""
        with self._lock:
            return BreakerCounters(**self._counts)

    # -- the state machine (every method below runs under the lock) ------------------------

    def _set(self, state: BreakerState) -> None:
        logger.log(
            logging.INFO if state is BreakerState.HALF_OPEN else logging.WARNING,
            "%s circuit breaker: %s -> %s",
            self.name,
            self._state,
            state,
        )
        self._state = state
        self._generation += 1
        self._probing = False

    def _expire(self, now: float) -> None:
        """Move OPEN to HALF_OPEN once the cool-down is over (lazily: no timer thread)."""
        if self._state is BreakerState.OPEN and self._opened_at is not None:
            if now - self._opened_at >= self._open_for:
                self._set(BreakerState.HALF_OPEN)

    def _open(self, now: float, *, level: float, hint: float | None) -> None:
        """Open for ``level`` seconds, or for the engine's longer ``hint``, up to the max."""
        self._level = level
        self._open_for = min(max(level, hint or 0.0), self.max_cooldown_s)
        self._opened_at = now
        self._consecutive = 0
        self._recent.clear()
        self._counts["opened"] += 1
        self._set(BreakerState.OPEN)
        logger.warning("%s circuit breaker open for %.1fs", self.name, self._open_for)

    def _admit(self) -> _Ticket:
        """Let a call through, or raise :class:`SynthesisUnavailable` to fail it fast."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if self._state is BreakerState.CLOSED:
                self._counts["calls"] += 1
                return _Ticket(self._generation, probe=False)
            if self._state is BreakerState.HALF_OPEN and not self._probing:
                self._probing = True
                self._counts["calls"] += 1
                self._counts["probes"] += 1
                return _Ticket(self._generation, probe=True)
            self._counts["short_circuited"] += 1
            if self._state is BreakerState.HALF_OPEN:
                retry_after = _PROBE_RETRY_AFTER_S
                reason = "a probe call is testing it"
            else:
                opened_at = self._opened_at if self._opened_at is not None else now
                retry_after = max(0.0, opened_at + self._open_for - now)
                reason = f"it failed repeatedly; next try in {retry_after:.1f}s"
        raise SynthesisUnavailable(
            f"{self.name} is skipped by its circuit breaker: {reason}", retry_after=retry_after
        )

    def _succeeded(self, ticket: _Ticket) -> None:
        with self._lock:
            self._counts["successes"] += 1
            if ticket.generation != self._generation:
                return
            if ticket.probe:
                self._opened_at = None
                self._level = self._open_for = self.cooldown_s
                self._set(BreakerState.CLOSED)
            self._consecutive = 0

    def _failed(self, ticket: _Ticket, error: SynthesisUnavailable) -> None:
        with self._lock:
            self._counts["failures"] += 1
            if ticket.generation != self._generation:
                return
            now = self._clock()
            if ticket.probe:
                level = min(self._level * 2, self.max_cooldown_s)
                self._open(now, level=level, hint=error.retry_after)
                return
            self._consecutive += 1
            self._recent.append(now)
            while self._recent and now - self._recent[0] > self.window_s:
                self._recent.popleft()
            if (
                error.unreachable
                or self._consecutive >= self.failures
                or len(self._recent) >= self.window_failures
            ):
                self._open(now, level=self.cooldown_s, hint=error.retry_after)

    def _neutral(self, ticket: _Ticket) -> None:
        with self._lock:
            self._counts["neutral"] += 1
            if ticket.probe and ticket.generation == self._generation:
                # The probe told us nothing about the engine: let the next call probe.
                self._probing = False

    # -- use -------------------------------------------------------------------------------

    def call(self, func: Callable[[], _T]) -> _T:
        """Run ``func`` under the breaker: fail fast when open, record how it ended.

        Raises:
            SynthesisUnavailable: the breaker is open (or a probe is running); ``func`` is
                not called. Whatever ``func`` raises is re-raised unchanged.
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
                retry_after=_PROBE_RETRY_AFTER_S,
            )
        return self._run(ticket, func)

    def _run(self, ticket: _Ticket, func: Callable[[], _T]) -> _T:
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

    def _probe(self, ticket: _Ticket, func: Callable[[], object]) -> None:
        """A background probe: its outcome moves the state; its result is not needed."""
        try:
            self._run(ticket, func)
        except Exception as exc:  # recorded by _run; a probe's thread has no one to tell
            logger.info("%s background probe failed: %s", self.name, exc)

    def wait_probe(self, timeout: float | None = None) -> bool:
        """Wait for the latest background probe to end; True when none is running."""
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
        with self._lock:
            self._expire(self._clock())
            if self._state is BreakerState.CLOSED:
                return True
            return (
                self._state is BreakerState.HALF_OPEN
                and not self.probe_in_background
                and not self._probing
            )


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
        limiter: RateLimiter | None = None,
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
