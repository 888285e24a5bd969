"""When the shared database cannot be reached, coordination refuses cleanly (503), at once."""

from __future__ import annotations

import socket

import pytest

from tts_service.coordination.breaker_state import BreakerPolicy
from tts_service.coordination.sql import (
    CoordinationUnavailable,
    SqlBreakerStore,
    SqlLeases,
    SqlRateBudget,
)
from tts_service.errors import SynthesisUnavailable
from tts_service.storage.database import open_engine


@pytest.fixture
def unreachable():
    """An engine for a PostgreSQL port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = open_engine(f"postgresql://tts@127.0.0.1:{port}/tts")
    yield engine
    engine.dispose()


def test_leases_refuse_when_the_database_is_down(unreachable):
    with pytest.raises(CoordinationUnavailable, match="cannot claim article:abc") as info:
        SqlLeases(unreachable).claim("article:abc", "a", ttl_s=30)
    assert isinstance(info.value, SynthesisUnavailable)
    assert info.value.retry_after == 1.0


def test_no_budget_without_the_database(unreachable):
    with pytest.raises(CoordinationUnavailable, match="cannot create the rate budget gtts"):
        SqlRateBudget(unreachable, "gtts", 300)


def test_breaker_state_unreadable(unreachable):
    store = SqlBreakerStore(unreachable, BreakerPolicy())
    with pytest.raises(CoordinationUnavailable, match="cannot read the gtts breaker"):
        store.read("gtts")
