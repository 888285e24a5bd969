"""LeaseKeeper: claims kept alive by renewal, a loss made visible, on every backend."""

from __future__ import annotations

import pytest

from tts_service.coordination.keeper import LeaseKeeper, unique_owner

TTL = 30.0


@pytest.fixture
def keepers(backend):
    """Two processes' keepers on one lease table."""
    leases = backend.leases()
    made = [LeaseKeeper(leases, unique_owner(), ttl_s=TTL) for _ in range(2)]
    yield made
    for keeper in made:
        keeper.close()


def test_owners_are_unique_per_claimer():
    assert unique_owner() != unique_owner()


def test_a_renewed_claim_outlives_its_first_ttl(backend, keepers):
    a, b = keepers
    claim = a.claim("article:k")
    assert claim is not None and b.claim("article:k") is None
    backend.clock.advance(TTL * 2 / 3)
    a.renew_all()
    backend.clock.advance(TTL * 2 / 3)  # past the first expiry, not the renewed one
    assert b.claim("article:k") is None
    assert a.holder("article:k") is not None
    assert not claim.lost.is_set()


def test_an_unrenewed_claim_is_taken_over_and_its_holder_learns_it_lost_it(backend, keepers):
    a, b = keepers
    claim = a.claim("chunk:k")
    assert claim is not None
    backend.clock.advance(TTL + 1)  # the holder was paused past its lease
    assert b.holder("chunk:k") is None
    taken = b.claim("chunk:k")
    assert taken is not None
    a.renew_all()
    assert claim.lost.is_set()
    # Its late release cannot free the new holder's claim.
    a.release(claim)
    assert b.holder("chunk:k") is not None
    b.renew_all()
    assert not taken.lost.is_set()


def test_a_release_lets_the_next_claimer_in_at_once(keepers):
    a, b = keepers
    claim = a.claim("article:k")
    assert claim is not None
    a.release(claim)
    assert b.claim("article:k") is not None
