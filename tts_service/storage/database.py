"""The database, chosen by URL: SQLite for one machine, PostgreSQL (psycopg 3) for a cluster.

:func:`open_engine` is the one factory for ``TTS_DATABASE_URL``; everything above takes
the SQLAlchemy :class:`~sqlalchemy.engine.Engine` and builds statements from Core tables,
so the same code runs on both dialects (docs/cluster.md, section 1.3).

SQLite is set up the way ``registry/db.py`` sets up its file today: WAL (readers beside
one writer; ``synchronous=NORMAL``), a busy timeout (a writer in another process holds the lock for
milliseconds: wait, don't fail), foreign keys on, and every transaction ``BEGIN
IMMEDIATE``, so a read-then-write (a breaker transition, a job claim) cannot interleave
with another process's write. PostgreSQL gets a connection pool that checks a
connection before use, so a restarted database costs one reconnect, not an error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["dialect_of", "open_engine", "read_engine"]

# A writer in another process holds SQLite's lock for milliseconds: wait, don't fail.
_SQLITE_BUSY_MS = 10_000
# The execution option read_engine sets: its transactions issue no BEGIN IMMEDIATE.
_READS_ONLY = "tts_reads_only"


def open_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``sqlite:///<file>`` or ``postgresql://…`` (psycopg 3).

    ``postgresql://`` and ``postgres://`` are read as ``postgresql+psycopg://``: the
    operator gives the URL every PostgreSQL tool takes.

    Raises:
        ValueError: neither SQLite nor PostgreSQL.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"timeout": _SQLITE_BUSY_MS / 1000, "check_same_thread": False},
        )
        _sqlite_setup(engine)
        return engine
    if backend == "postgresql":
        return create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
    raise ValueError(
        f"TTS_DATABASE_URL {url!r}: use sqlite:///<file> or postgresql://user@host:port/db"
    )


def read_engine(engine: Engine) -> Engine:
    """``engine`` for plain reads: on SQLite, without ``BEGIN IMMEDIATE``.

    A read that writes nothing after it (a cache hit looking up an alias) needs no write
    lock: each statement runs in SQLite's autocommit mode on its own WAL snapshot, beside a
    writer in another process, instead of queueing behind it. It shares ``engine``'s pool
    and set-up; on PostgreSQL it is the same engine (MVCC readers never wait).
    """
    if dialect_of(engine) != "sqlite":
        return engine
    return engine.execution_options(**{_READS_ONLY: True})


def dialect_of(engine: Engine) -> str:
    """``"sqlite"`` or ``"postgresql"``: where a dialect-specific statement is chosen."""
    return str(engine.dialect.name)


def _sqlite_setup(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys on every connection; BEGIN IMMEDIATE transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not pysqlite's own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the file; a power cut may lose the last
        # commits, not fsync each one (a rate-limit token costs a transaction).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_READS_ONLY):
            return  # autocommit: every statement its own consistent read
        connection.exec_driver_sql("BEGIN IMMEDIATE")
