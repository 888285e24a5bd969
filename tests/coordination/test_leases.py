"""Lease claims for single flight: claim, renew, release, take-over after expiry."""

from __future__ import annotations

import threading

from tts_service.coordination.ports import Lease


def test_first_claim_wins_until_released(backend):
    leases = backend.leases()
    first = leases.claim("article:abc", "host-a:1:x", ttl_s=30)
    assert first == Lease("article:abc", "host-a:1:x", 1, 1_000_030.0)
    assert leases.claim("article:abc", "host-b:2:y", ttl_s=30) is None
    assert leases.holder("article:abc") == first
    assert leases.release(first) is True
    assert leases.holder("article:abc") is None
    second = leases.claim("article:abc", "host-b:2:y", ttl_s=30)
    assert second is not None and second.owner == "host-b:2:y"


def test_a_holder_cannot_claim_its_live_lease_again(backend):
    leases = backend.leases()
    assert leases.claim("chunk:1", "a", ttl_s=30) is not None
    assert leases.claim("chunk:1", "a", ttl_s=30) is None


def test_names_are_independent(backend):
    leases = backend.leases()
    a = leases.claim("chunk:1", "a", ttl_s=30)
    b = leases.claim("chunk:2", "b", ttl_s=30)
    assert (a.generation, b.generation) == (1, 1)
    assert leases.holder("chunk:1").owner == "a"
    assert leases.holder("chunk:2").owner == "b"


def test_renew_extends_the_lease(backend):
    leases = backend.leases()
    lease = leases.claim("article:abc", "a", ttl_s=30)
    backend.clock.advance(20)
    renewed = leases.renew(lease, ttl_s=30)
    assert renewed == Lease("article:abc", "a", 1, 1_000_050.0)
    backend.clock.advance(20)  # past the first expiry, before the renewed one
    assert leases.claim("article:abc", "b", ttl_s=30) is None
    assert leases.holder("article:abc") == renewed


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced_off(backend):
    leases = backend.leases()
    old = leases.claim("article:abc", "dead", ttl_s=30)
    backend.clock.advance(29.5)
    assert leases.claim("article:abc", "b", ttl_s=30) is None
    backend.clock.advance(0.5)  # expires_at reached
    assert leases.holder("article:abc") is None
    new = leases.claim("article:abc", "b", ttl_s=30)
    assert new == Lease("article:abc", "b", 2, 1_000_060.0)
    # The old holder wakes up: it can neither renew nor release the new claim.
    assert leases.renew(old, ttl_s=30) is None
    assert leases.release(old) is False
    assert leases.holder("article:abc") == new


def test_a_lease_expired_but_not_taken_over_can_still_be_renewed(backend):
    """Nobody took it: the generation is the holder's, so its work is still the only one."""
    leases = backend.leases()
    lease = leases.claim("chunk:9", "a", ttl_s=10)
    backend.clock.advance(15)
    assert leases.renew(lease, ttl_s=10) == Lease("chunk:9", "a", 1, 1_000_025.0)


def test_release_of_a_lost_lease_changes_nothing(backend):
    leases = backend.leases()
    lease = leases.claim("chunk:9", "a", ttl_s=10)
    assert leases.release(lease) is True
    assert leases.release(lease) is False
    other = leases.claim("chunk:9", "b", ttl_s=10)
    assert leases.release(lease) is False
    assert leases.holder("chunk:9") == other


def test_exactly_one_of_many_concurrent_claims_wins(backend):
    leases = backend.leases()
    start = threading.Barrier(8)
    won: list[Lease] = []

    def claim(i: int) -> None:
        start.wait()
        lease = leases.claim("article:new", f"worker-{i}", ttl_s=30)
        if lease is not None:
            won.append(lease)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert leases.holder("article:new") == won[0]


def test_purge_forgets_only_leases_expired_before_the_given_time(backend):
    leases = backend.leases()
    dead = leases.claim("chunk:dead", "crashed", ttl_s=10)
    assert dead is not None
    backend.clock.advance(100)
    alive = leases.claim("chunk:alive", "b", ttl_s=10)
    assert alive is not None
    lapsed = leases.claim("chunk:lapsed", "c", ttl_s=1)
    assert lapsed is not None
    backend.clock.advance(5)  # "lapsed" expired 4 s ago, "dead" 95 s ago
    assert leases.purge(backend.clock() - 60) == 1
    assert leases.renew(dead, ttl_s=10) is None  # its row is gone
    assert leases.renew(lapsed, ttl_s=10) is not None  # expired, not purged: still renewable
    assert leases.holder("chunk:alive") == alive
