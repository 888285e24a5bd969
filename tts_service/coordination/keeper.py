"""Claims held while their work runs: leases renewed in the background, losses made visible.

A producer claims ``article:<key>`` (or ``chunk:<key>``) for ``ttl_s`` seconds and keeps
it for as long as it works: one thread per process renews every held lease every
``ttl_s / 3``. When a renewal answers that the lease was lost (the process was paused
past its lease and another took over), the claim's ``lost`` event is set and the
producer stops at its next step (docs/cluster.md, 1.4). A process killed with ``kill -9``
renews nothing: its leases run out after ``ttl_s`` and another process takes over.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

from tts_service.coordination.ports import Lease, Leases
from tts_service.errors import SynthesisUnavailable

__all__ = ["PURGE_EVERY_S", "Claim", "LeaseKeeper", "unique_owner"]

logger = logging.getLogger(__name__)

#: How often a process deletes the rows of leases expired for longer than this (a crashed
#: process's; released leases are deleted at once).
PURGE_EVERY_S = 3600.0


def unique_owner() -> str:
    """An owner name unique to this claimer: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(eq=False)
class Claim:
    """A lease this process holds and renews; ``lost`` is set when it stopped holding it."""

    lease: Lease
    lost: threading.Event = field(default_factory=threading.Event)

    @property
    def name(self) -> str:
        """What is claimed (``article:<key>``, ``chunk:<key>``)."""
        return self.lease.name


class LeaseKeeper:
    """Claims names on :class:`~tts_service.coordination.ports.Leases` and keeps them.

    Args:
        leases: the lease table (in-process, or shared through the database).
        owner: this process's owner name (:func:`unique_owner`).
        ttl_s: how long a claim outlives its holder's last renewal.
    """

    def __init__(self, leases: Leases, owner: str, *, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0, got {ttl_s}")
        self.leases = leases
        self.owner = owner
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._held: dict[str, Claim] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self, name: str) -> Claim | None:
        """Claim ``name`` and keep renewing it; ``None`` while another holder has it."""
        lease = self.leases.claim(name, self.owner, ttl_s=self.ttl_s)
        if lease is None:
            return None
        claim = Claim(lease)
        with self._lock:
            self._held[name] = claim
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._renew_forever, name="lease-keeper", daemon=True
                )
                self._thread.start()
        return claim

    def release(self, claim: Claim) -> None:
        """Stop renewing ``claim`` and give it up (nothing happens if it was lost)."""
        with self._lock:
            if self._held.get(claim.name) is claim:
                del self._held[claim.name]
        try:
            self.leases.release(claim.lease)
        except SynthesisUnavailable as exc:
            # The lease runs out by itself; the next claimer waits at most its TTL.
            logger.warning("lease %s not released: %s", claim.name, exc)

    def holder(self, name: str) -> Lease | None:
        """Who holds ``name`` now (any process), or ``None``."""
        return self.leases.holder(name)

    def _renew_forever(self) -> None:
        purged = time.monotonic()
        while not self._stop.wait(self.ttl_s / 3):
            self.renew_all()
            if time.monotonic() - purged >= PURGE_EVERY_S:
                purged = time.monotonic()
                self.purge()

    def purge(self) -> int:
        """Forget leases that ran out over :data:`PURGE_EVERY_S` ago (their holders died
        without releasing them); how many. Every process does it now and then."""
        try:
            return self.leases.purge(time.time() - PURGE_EVERY_S)
        except SynthesisUnavailable as exc:
            logger.warning("expired leases not purged: %s", exc)
            return 0

    def renew_all(self) -> None:
        """Renew every held claim now; a claim found lost is dropped and marked."""
        with self._lock:
            claims = list(self._held.values())
        for claim in claims:
            try:
                renewed = self.leases.renew(claim.lease, ttl_s=self.ttl_s)
            except SynthesisUnavailable as exc:
                # It cannot prove it still holds the claim: once the lease has run out
                # by its own clock, it must stop (someone may have taken over).
                logger.warning("lease %s not renewed: %s", claim.name, exc)
                renewed = claim.lease if claim.lease.expires_at > time.time() else None
            if renewed is None:
                logger.warning("lease %s was lost: another process took it over", claim.name)
                claim.lost.set()
                with self._lock:
                    if self._held.get(claim.name) is claim:
                        del self._held[claim.name]
            else:
                claim.lease = renewed

    def close(self) -> None:
        """Stop renewing (held leases then run out); idempotent."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
