"""What the service needs to coordinate its processes: the coordination ports.

Each port has a local implementation (``local.py``: one process, in memory, exactly what
the service does today) and a database one (``sql.py``: SQLAlchemy Core, the same
statements on PostgreSQL and SQLite, so several processes on one or many machines share
it). Both pass one contract suite (``tests/coordination/``). See docs/cluster.md, 1.4.

Time is wall-clock seconds from a ``clock`` each implementation takes (tests pass a fake):
``time.monotonic`` means nothing to another machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tts_service.coordination.breaker_state import BreakerRecord

__all__ = ["BreakerStore", "Grant", "Lease", "Leases", "Notifier", "RateBudget", "Subscription"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Lease:
    """A claim on ``name`` by ``owner`` until ``expires_at``.

    ``generation`` is the fencing token: it grows with every successful claim of the name,
    so a holder that lost its claim (it was paused past ``expires_at`` and someone took
    over) cannot renew or release the new holder's claim.
    """

    name: str
    owner: str
    generation: int
    expires_at: float


class Leases(Protocol):
    """Single flight across processes: who makes this article (or chunk), until when.

    Owners must be unique per claimer (host, process and a random part): the owner and
    the generation together identify a claim.
    """

    def claim(self, name: str, owner: str, *, ttl_s: float) -> Lease | None:
        """Claim ``name`` for ``ttl_s`` seconds; ``None`` while someone else holds it.

        A lease past its ``expires_at`` is taken over (its generation + 1). A holder
        claiming again its own live lease gets ``None`` too: it renews instead.
        """
        ...

    def renew(self, lease: Lease, *, ttl_s: float) -> Lease | None:
        """Extend a held lease to ``now + ttl_s``; ``None`` when it was lost (taken over
        or released): the caller must stop the work it claimed."""
        ...

    def release(self, lease: Lease) -> bool:
        """Give the claim up; ``False`` (and nothing changes) when it was not held any more."""
        ...

    def holder(self, name: str) -> Lease | None:
        """The live lease on ``name``, or ``None`` when nobody holds it (or it expired)."""
        ...

    def purge(self, expired_before: float) -> int:
        """Forget leases that expired before ``expired_before`` (their holders died: a
        release deletes the others); how many. Keeps the table small."""
        ...


@dataclass(frozen=True, slots=True)
class Grant:
    """The answer of :meth:`RateBudget.take`.

    ``taken``: a token is the caller's; it may send its request after ``wait_s`` seconds
    (0: now). Not taken: nothing was reserved; one could be had in about ``wait_s``.
    """

    taken: bool
    wait_s: float


class RateBudget(Protocol):
    """A token bucket shared by every process: ``per_minute`` tokens, ``burst`` at once.

    Over any ``T`` seconds at most ``burst + rate * T`` tokens are handed out,
    deployment-wide. Listeners come first: background work takes a token only while the
    bucket holds more than ``reserve``; a listener reserves one even from an empty bucket
    (it then waits its turn, in arrival order).
    """

    per_minute: float
    burst: int
    reserve: int

    def take(self, *, listener: bool, max_wait_s: float) -> Grant:
        """One token.

        A listener's is reserved now and due in ``wait_s``; when that would be more than
        ``max_wait_s``, nothing is taken and ``wait_s`` says when one will be due.
        Background work (``listener=False``) takes one only if it is spare now, above
        the reserve; otherwise ``wait_s`` says when to look again. ``max_wait_s`` does
        not apply to it (it never reserves ahead).
        """
        ...


class BreakerStore(Protocol):
    """Where a circuit breaker's record lives, changed by one atomic step at a time."""

    def update(self, name: str, step: Callable[[BreakerRecord], tuple[BreakerRecord, _T]]) -> _T:
        """Apply ``step`` to the record of ``name`` (a fresh closed one at first) and keep
        the record it returns, atomically with respect to every other process; return
        the step's other result."""
        ...

    def read(self, name: str) -> BreakerRecord:
        """The record of ``name`` as it is now."""
        ...


class Subscription(Protocol):
    """Messages on one channel since :meth:`Notifier.subscribe`, in the order sent."""

    def wait(self, timeout_s: float) -> str | None:
        """The next message, waiting up to ``timeout_s``; ``None`` when none came."""
        ...

    def close(self) -> None:
        """Stop receiving."""
        ...

    def __enter__(self) -> Subscription: ...

    def __exit__(self, *exc: object) -> None: ...


class Notifier(Protocol):
    """Wake-ups across processes: "chunk stored", "article assembled", "a job is due".

    A hint, never the truth: notifications can be lost (a dropped connection, a process
    that subscribed a moment late), so every waiter also looks at the state it waits for
    after each wait, and waits with a timeout (docs/cluster.md, 1.4). Channels are a few
    fixed names (``chunks``, ``articles``, ``jobs``); the message says which key.
    """

    def notify(self, channel: str, message: str) -> None:
        """Send ``message`` to every subscriber of ``channel``, in every process."""
        ...

    def subscribe(self, channel: str) -> Subscription:
        """Receive what is sent to ``channel`` from now on (subscribe, then look, then wait)."""
        ...

    def close(self) -> None:
        """Stop delivering; subscriptions' waits return ``None`` from then on."""
        ...
