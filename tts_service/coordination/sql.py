"""Coordination in the database: lease rows, a token bucket row, breaker records.

SQLAlchemy Core statements that run unchanged on PostgreSQL and on SQLite, so several
processes share them whether they run on many machines (PostgreSQL) or on one (SQLite,
e.g. ``uvicorn --workers 4``). Each operation is one statement or one short transaction;
none holds a connection between calls. See docs/cluster.md, 1.4, for why lease rows and
not advisory locks.

Database failures surface as
:class:`~tts_service.coordination.ports.CoordinationUnavailable` (a 503 with a retry
hint): without the shared state, no request may go to Google uncounted, and no article
may be claimed twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from tts_service.coordination.breaker_state import BreakerPolicy, BreakerRecord, BreakerState
from tts_service.coordination.budget import BucketConfig, refilled
from tts_service.coordination.ports import Grant, Lease
from tts_service.errors import SynthesisUnavailable

__all__ = [
    "CoordinationUnavailable",
    "SqlBreakerStore",
    "SqlLeases",
    "SqlRateBudget",
    "create_tables",
    "metadata",
]

_T = TypeVar("_T")

metadata = sa.MetaData()

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False),
)

rate_buckets = sa.Table(
    "rate_buckets",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    # Below zero while listeners hold reservations for tokens not refilled yet.
    sa.Column("tokens", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

breakers = sa.Table(
    "breakers",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("consecutive", sa.Integer, nullable=False),
    # Recent failure times, a JSON list of at most window_failures numbers.
    sa.Column("recent", sa.Text, nullable=False),
    sa.Column("opened_at", sa.Double),
    sa.Column("open_for", sa.Double, nullable=False),
    sa.Column("level", sa.Double, nullable=False),
    sa.Column("probe_until", sa.Double),
)

# Serialises schema creation across processes starting together (PostgreSQL only;
# SQLite's BEGIN IMMEDIATE already does). An arbitrary constant: "tts" in ASCII.
_SCHEMA_LOCK = 0x747473


class CoordinationUnavailable(SynthesisUnavailable):
    """Raised when the shared coordination state cannot be read or written (503).

    Defined here until the wiring moves it into :mod:`tts_service.errors`.
    """


def create_tables(engine: Engine) -> None:
    """Create the coordination tables if missing (until the migration runner does it)."""
    with _translate("create the coordination tables"), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
        metadata.create_all(conn, checkfirst=True)


@contextmanager
def _translate(action: str) -> Iterator[None]:
    """Turn a database failure into :class:`CoordinationUnavailable`."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise CoordinationUnavailable(
            f"cannot {action}: the shared database failed ({type(exc).__name__})",
            retry_after=1.0,
        ) from exc


def _insert(engine: Engine, table: sa.Table) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_update`` / ``…_nothing``."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _num(value: float) -> sa.BindParameter[float]:
    """A float parameter typed as a double on every dialect."""
    return sa.literal(value, sa.Double)


class SqlLeases:
    """:class:`~tts_service.coordination.ports.Leases` as rows of the ``leases`` table."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock

    def claim(self, name: str, owner: str, *, ttl_s: float) -> Lease | None:
        now = self._clock()
        expires = now + ttl_s
        stmt = _insert(self.engine, leases).values(
            name=name, owner=owner, generation=1, expires_at=expires
        )
        # Insert, or take an expired lease over; a live one is left alone (no row back).
        stmt = stmt.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={
                "owner": stmt.excluded.owner,
                "generation": leases.c.generation + 1,
                "expires_at": stmt.excluded.expires_at,
            },
            where=leases.c.expires_at <= _num(now),
        ).returning(leases.c.generation)
        with _translate(f"claim {name}"), self.engine.begin() as conn:
            generation = conn.execute(stmt).scalar_one_or_none()
        return None if generation is None else Lease(name, owner, int(generation), expires)

    def renew(self, lease: Lease, *, ttl_s: float) -> Lease | None:
        expires = self._clock() + ttl_s
        stmt = (
            sa.update(leases)
            .where(
                leases.c.name == lease.name,
                leases.c.owner == lease.owner,
                leases.c.generation == lease.generation,
            )
            .values(expires_at=expires)
        )
        with _translate(f"renew {lease.name}"), self.engine.begin() as conn:
            renewed = conn.execute(stmt).rowcount == 1
        return Lease(lease.name, lease.owner, lease.generation, expires) if renewed else None

    def release(self, lease: Lease) -> bool:
        stmt = sa.delete(leases).where(
            leases.c.name == lease.name,
            leases.c.owner == lease.owner,
            leases.c.generation == lease.generation,
        )
        with _translate(f"release {lease.name}"), self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def holder(self, name: str) -> Lease | None:
        stmt = sa.select(leases).where(
            leases.c.name == name, leases.c.expires_at > _num(self._clock())
        )
        with _translate(f"read {name}"), self.engine.connect() as conn:
            row = conn.execute(stmt).one_or_none()
        if row is None:
            return None
        return Lease(row.name, row.owner, int(row.generation), float(row.expires_at))

    def purge(self, expired_before: float) -> int:
        stmt = sa.delete(leases).where(leases.c.expires_at < _num(expired_before))
        with _translate("purge expired leases"), self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount)


class SqlRateBudget:
    """:class:`~tts_service.coordination.ports.RateBudget` as one row, one UPDATE a token.

    The refill, the check and the take are one ``UPDATE … WHERE … RETURNING``: concurrent
    takers are serialised by the row's lock, and PostgreSQL re-evaluates the ``WHERE`` on
    the row a concurrent update left, so no two takers spend the same token. Every
    process must use the same ``per_minute``, ``burst`` and ``reserve`` (one setting).
    """

    def __init__(
        self,
        engine: Engine,
        name: str,
        per_minute: float,
        *,
        burst: int | None = None,
        reserve: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.name = name
        self.config = BucketConfig.of(per_minute, burst=burst, reserve=reserve)
        self.per_minute = self.config.per_minute
        self.burst = self.config.burst
        self.reserve = self.config.reserve
        self._clock = clock
        stmt = (
            _insert(engine, rate_buckets)
            .values(name=name, tokens=float(self.burst), updated_at=clock())
            .on_conflict_do_nothing(index_elements=[rate_buckets.c.name])
        )
        with _translate(f"create the rate budget {name}"), engine.begin() as conn:
            conn.execute(stmt)

    def take(self, *, listener: bool, max_wait_s: float) -> Grant:
        now = self._clock()
        b = rate_buckets.c
        rate = self.config.rate
        elapsed = sa.case((b.updated_at < _num(now), _num(now) - b.updated_at), else_=_num(0.0))
        raw = b.tokens + elapsed * _num(rate)
        tokens = sa.case((raw > _num(self.burst), _num(float(self.burst))), else_=raw)
        # A listener reserves a token due within its wait; background work takes one
        # only above the listeners' reserve.
        floor = -max_wait_s * rate if listener else float(self.reserve)
        stmt = (
            sa.update(rate_buckets)
            .where(b.name == self.name, tokens - _num(1.0) >= _num(floor))
            .values(
                tokens=tokens - _num(1.0),
                updated_at=sa.case((b.updated_at < _num(now), _num(now)), else_=b.updated_at),
            )
            .returning(b.tokens)
        )
        with _translate(f"take from the rate budget {self.name}"), self.engine.begin() as conn:
            left = conn.execute(stmt).scalar_one_or_none()
            if left is not None:
                return Grant(True, max(0.0, -float(left) / rate))
            row = conn.execute(sa.select(b.tokens, b.updated_at).where(b.name == self.name)).one()
        # Refused: when a token would be due (listener) or spare (background).
        current = refilled(float(row.tokens), float(row.updated_at), now, self.config)
        want = 1.0 if listener else 1.0 + self.reserve
        return Grant(False, max(0.0, (want - current) / rate))


class SqlBreakerStore:
    """:class:`~tts_service.coordination.ports.BreakerStore` as rows of ``breakers``.

    A step reads the row ``FOR UPDATE`` (SQLite: inside ``BEGIN IMMEDIATE``), applies the
    pure transition and writes the row back, in one transaction.
    """

    def __init__(self, engine: Engine, policy: BreakerPolicy) -> None:
        self.engine = engine
        self.policy = policy

    def update(self, name: str, step: Callable[[BreakerRecord], tuple[BreakerRecord, _T]]) -> _T:
        fresh = _row(BreakerRecord.fresh(self.policy))
        create = (
            _insert(self.engine, breakers)
            .values(name=name, **fresh)
            .on_conflict_do_nothing(index_elements=[breakers.c.name])
        )
        select = sa.select(breakers).where(breakers.c.name == name).with_for_update()
        with _translate(f"update the {name} breaker"), self.engine.begin() as conn:
            conn.execute(create)
            record = _record(conn.execute(select).one())
            changed, result = step(record)
            if changed != record:
                conn.execute(
                    sa.update(breakers).where(breakers.c.name == name).values(**_row(changed))
                )
        return result

    def read(self, name: str) -> BreakerRecord:
        select = sa.select(breakers).where(breakers.c.name == name)
        with _translate(f"read the {name} breaker"), self.engine.connect() as conn:
            row = conn.execute(select).one_or_none()
        return BreakerRecord.fresh(self.policy) if row is None else _record(row)


def _row(record: BreakerRecord) -> dict[str, Any]:
    return {
        "state": record.state.value,
        "generation": record.generation,
        "consecutive": record.consecutive,
        "recent": json.dumps(list(record.recent)),
        "opened_at": record.opened_at,
        "open_for": record.open_for,
        "level": record.level,
        "probe_until": record.probe_until,
    }


def _record(row: Any) -> BreakerRecord:
    return BreakerRecord(
        state=BreakerState(row.state),
        generation=int(row.generation),
        consecutive=int(row.consecutive),
        recent=tuple(float(t) for t in json.loads(row.recent)),
        opened_at=None if row.opened_at is None else float(row.opened_at),
        open_for=float(row.open_for),
        level=float(row.level),
        probe_until=None if row.probe_until is None else float(row.probe_until),
    )
