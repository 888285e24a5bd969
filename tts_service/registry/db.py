"""The registry's database: an SQLAlchemy engine on SQLite or PostgreSQL, kept migrated.

The location is a URL (``TTS_DATABASE_URL``; by default ``sqlite:///`` + the registry
file) or a path to a SQLite file. :func:`~tts_service.storage.database.open_engine` sets
SQLite up for several processes (WAL, busy timeout, ``BEGIN IMMEDIATE``) and PostgreSQL
with a pre-pinged pool; ``storage.migrate`` applies the modules of
``registry/migrations`` as component ``registry``. A SQLite file made before the runner
(its version in ``PRAGMA user_version``) is adopted at that version: no data moves.

Every failure of the database — a locked file, a refused connection, PostgreSQL
restarting — surfaces as :class:`~tts_service.errors.RegistryError` (the API's 503 with
``Retry-After``), and a write transaction that fails is rolled back whole.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from tts_service.errors import RegistryError
from tts_service.storage.database import open_engine
from tts_service.storage.migrate import SchemaError, load_migrations, migrate, schema_version

__all__ = ["COMPONENT", "Database", "database_url"]

logger = logging.getLogger(__name__)

#: The registry's row in ``schema_version``.
COMPONENT = "registry"


def database_url(location: str | Path) -> str:
    """``location`` as an engine URL: a path is a SQLite file."""
    if isinstance(location, Path):
        return f"sqlite:///{location}"
    return location


class Database:
    """A migrated registry database shared by the threads of this process."""

    def __init__(self, location: str | Path) -> None:
        url = database_url(location)
        if isinstance(location, Path):
            self.path: Path | None = location
        else:
            database = sa.engine.make_url(url).database
            self.path = Path(database) if url.startswith("sqlite") and database else None
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = open_engine(url)
        except (OSError, ValueError, sa.exc.ArgumentError) as exc:
            raise RegistryError(f"cannot open the article registry: {exc}") from exc
        # The password of a PostgreSQL URL stays out of logs and error messages.
        self.where = self.engine.url.render_as_string(hide_password=True)
        try:
            self.migrate()
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return str(self.engine.dialect.name)

    @property
    def version(self) -> int:
        """The number of the last migration applied."""
        with self.read() as conn:
            value = conn.execute(
                sa.select(schema_version.c.version).where(schema_version.c.component == COMPONENT)
            ).scalar_one_or_none()
        return int(value or 0)

    def migrate(self) -> None:
        """Apply the migrations this database has not had yet, each in its own transaction."""
        try:
            migrate(
                self.engine,
                COMPONENT,
                load_migrations("tts_service.registry.migrations"),
                adopt=_adopt,
            )
        except SchemaError as exc:
            raise RegistryError(f"the article registry at {self.where}: {exc}") from exc
        except sa.exc.SQLAlchemyError as exc:
            raise RegistryError(f"cannot open the article registry at {self.where}: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (one transaction, rolled back at the end)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise RegistryError(f"the article registry failed: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, committed at the end; rolled back whole when the block raises.

        On SQLite it is ``BEGIN IMMEDIATE`` (``open_engine``): the write lock is taken at
        once, so a read-then-write cannot be interleaved with another process's write. On
        PostgreSQL, a read-then-write that must not race locks what it reads
        (``store.py``: an article's advisory lock, ``FOR UPDATE SKIP LOCKED`` on jobs).
        """
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise RegistryError(f"the article registry failed: {exc}") from exc

    def close(self) -> None:
        """Close the pool's connections."""
        self.engine.dispose()


def _adopt(conn: Connection) -> int:
    """The version of a registry file from before ``schema_version``: its ``user_version``.

    Only a file that has the registry's tables: another component sharing a new SQLite
    file must not make the registry believe its migrations ran.
    """
    if conn.dialect.name != "sqlite" or not sa.inspect(conn).has_table("articles"):
        return 0
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
