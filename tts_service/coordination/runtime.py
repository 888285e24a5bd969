"""The coordination a service process runs with, built once from the settings.

One process alone (the quick start) coordinates in memory: the local implementations,
exactly today's behaviour. Several processes share the database implementations: over
``TTS_DATABASE_URL`` (PostgreSQL, or a SQLite file) when it is set, and otherwise, when
``TTS_COORDINATION=shared`` (what ``tts-service serve --workers N`` sets for N > 1), over a
SQLite file in the cache directory, which every process on the machine opens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from tts_service.coordination.breaker_state import BreakerPolicy
from tts_service.coordination.keeper import LeaseKeeper, unique_owner
from tts_service.coordination.local import LocalBreakerStore, LocalLeases, LocalRateBudget
from tts_service.coordination.notify import LocalNotifier, PostgresNotifier
from tts_service.coordination.ports import BreakerStore, Leases, Notifier, RateBudget
from tts_service.coordination.sql import (
    SqlBreakerStore,
    SqlLeases,
    SqlRateBudget,
    create_tables,
)
from tts_service.settings import Settings
from tts_service.storage.database import open_engine

__all__ = [
    "ARTICLES",
    "CHUNKS",
    "COORDINATION_FILE",
    "Coordination",
    "database_url",
    "ensure_tables",
    "open_coordination",
]

logger = logging.getLogger(__name__)

#: The SQLite file in the cache directory that processes of one machine share when no
#: database URL is set.
COORDINATION_FILE = "coordination.sqlite3"

#: Notification channels (docs/cluster.md, 1.4): the message is the key.
CHUNKS = "chunks"
ARTICLES = "articles"


def ensure_tables(engine: Engine) -> None:
    """Create the coordination tables if missing.

    The one place that does; it moves into the migration runner when that owns the schema.
    """
    create_tables(engine)


@dataclass
class Coordination:
    """Leases (with their keeper), notifications, rate budgets and breaker records.

    ``engine`` is the shared database, ``None`` when coordinating in memory.
    ``poll_s`` is how often a process waiting on another one's work looks at the state
    itself: notifications are a hint (docs/cluster.md, 1.4).
    """

    leases: Leases
    notifier: Notifier
    keeper: LeaseKeeper
    poll_s: float
    engine: Engine | None = None
    _breakers: dict[BreakerPolicy, BreakerStore] = field(default_factory=dict)

    @property
    def shared(self) -> bool:
        """Whether other processes see this coordination (a database is behind it)."""
        return self.engine is not None

    def rate_budget(self, name: str, per_minute: float, *, burst: int) -> RateBudget:
        """The token bucket ``name``: this process's, or the deployment's."""
        if self.engine is None:
            return LocalRateBudget(per_minute, burst=burst)
        return SqlRateBudget(self.engine, name, per_minute, burst=burst)

    def breaker_store(self, policy: BreakerPolicy) -> BreakerStore:
        """Where breakers with ``policy`` keep their records."""
        store = self._breakers.get(policy)
        if store is None:
            if self.engine is None:
                store = LocalBreakerStore(policy)
            else:
                store = SqlBreakerStore(self.engine, policy)
            self._breakers[policy] = store
        return store

    def close(self) -> None:
        """Stop renewing leases, stop listening, close the database connections."""
        self.keeper.close()
        self.notifier.close()
        if self.engine is not None:
            self.engine.dispose()

    @classmethod
    def local(cls, *, lease_ttl_s: float = 30.0, poll_s: float = 1.0) -> Coordination:
        """In memory, for one process."""
        leases = LocalLeases()
        keeper = LeaseKeeper(leases, unique_owner(), ttl_s=lease_ttl_s)
        return cls(leases=leases, notifier=LocalNotifier(), keeper=keeper, poll_s=poll_s)

    @classmethod
    def over(
        cls, engine: Engine, *, lease_ttl_s: float = 30.0, poll_s: float = 1.0
    ) -> Coordination:
        """Shared through ``engine`` (its tables created if missing)."""
        ensure_tables(engine)
        leases = SqlLeases(engine)
        notifier: Notifier
        if engine.dialect.name == "postgresql":
            notifier = PostgresNotifier(engine)
        else:
            # SQLite has no notifications between processes: they poll (a local file).
            notifier = LocalNotifier()
        keeper = LeaseKeeper(leases, unique_owner(), ttl_s=lease_ttl_s)
        return cls(leases=leases, notifier=notifier, keeper=keeper, poll_s=poll_s, engine=engine)


def database_url(settings: Settings) -> str | None:
    """The database coordination goes through, or ``None`` for in-memory coordination."""
    if settings.database_url:
        return settings.database_url
    if settings.coordination == "shared":
        path = Path(settings.cache_dir) / COORDINATION_FILE
        return f"sqlite:///{path.resolve().as_posix()}"
    return None


def open_coordination(settings: Settings) -> Coordination:
    """The coordination ``settings`` ask for (see the module docstring)."""
    url = database_url(settings)
    if url is None:
        return Coordination.local(lease_ttl_s=settings.lease_ttl_s, poll_s=settings.follow_poll_s)
    if url.startswith("sqlite:"):
        Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
    logger.info("coordinating through the database (%s)", url.split("://", 1)[0])
    return Coordination.over(
        open_engine(url), lease_ttl_s=settings.lease_ttl_s, poll_s=settings.follow_poll_s
    )
