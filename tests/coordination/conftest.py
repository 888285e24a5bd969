"""The coordination backends under test: in-process, SQLite and real PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tts_service.coordination.local import LocalBreakerStore, LocalLeases, LocalRateBudget
from tts_service.coordination.sql import (
    SqlBreakerStore,
    SqlLeases,
    SqlRateBudget,
    create_tables,
    metadata,
)
from tts_service.storage.database import open_engine
from tts_service.testing.clock import FakeClock


@dataclass
class Backend:
    """Makes each port on one backend; the SQL ones share one database, as processes do."""

    kind: str
    clock: FakeClock
    engine: object = None

    def leases(self):
        if self.engine is None:
            return LocalLeases(clock=self.clock)
        return SqlLeases(self.engine, clock=self.clock)

    def budget(self, per_minute, *, name="gtts", burst=None, reserve=None):
        if self.engine is None:
            return LocalRateBudget(per_minute, burst=burst, reserve=reserve, clock=self.clock)
        return SqlRateBudget(
            self.engine, name, per_minute, burst=burst, reserve=reserve, clock=self.clock
        )

    def breaker_store(self, policy):
        if self.engine is None:
            return LocalBreakerStore(policy)
        return SqlBreakerStore(self.engine, policy)


@pytest.fixture
def database_url(request, tmp_path):
    """A fresh database URL: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coordination.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def coordination_pg(postgres_server):
    """One PostgreSQL database with the coordination tables, for the whole session.

    A database per test costs a second under load; emptying three tables costs nothing.
    """
    name = postgres_server.create_database()
    engine = open_engine(postgres_server.url(name))
    create_tables(engine)
    yield engine
    engine.dispose()
    postgres_server.drop_database(name)


@pytest.fixture(params=["local", "sqlite", "postgresql"])
def backend(request, tmp_path):
    """Every coordination port's implementation, in turn, on a fake clock, empty."""
    clock = FakeClock(start=1_000_000.0)
    if request.param == "local":
        yield Backend("local", clock)
        return
    if request.param == "postgresql":
        engine = request.getfixturevalue("coordination_pg")
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
        yield Backend("postgresql", clock, engine)
        return
    engine = open_engine(f"sqlite:///{tmp_path / 'coordination.sqlite3'}")
    create_tables(engine)
    yield Backend("sqlite", clock, engine)
    engine.dispose()
