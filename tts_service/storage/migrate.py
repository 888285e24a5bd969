"""Schema migrations that run on SQLite and PostgreSQL: numbered modules, one runner.

Each component that owns tables (the article registry, the audio index, coordination)
ships its migrations as modules ``NNNN_name.py`` in a package of its own, each with
``def upgrade(conn: Connection) -> None`` written with SQLAlchemy Core (or DDL both
dialects accept). :func:`migrate` applies those a database has not had yet, in order, one
transaction each, and records the component's version in ``schema_version``.

Why our own runner and not Alembic (docs/cluster.md, section 1.3): the history is linear
and short, the Core tables are the spec, and the one thing a cluster needs that Alembic does
not do by itself is to serialise four processes of a rolling deploy that start at the same
moment. Here every migration's transaction first takes a lock — PostgreSQL's
``pg_advisory_xact_lock`` (released at commit), SQLite's ``BEGIN IMMEDIATE`` (set up by
:func:`~tts_service.storage.database.open_engine`) — then re-reads the version, so a
migration another process applied meanwhile is skipped, never run twice.

A database written by a newer version of the service is refused rather than used: the
old code would not know what the new columns mean.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from tts_service.errors import TTSError

__all__ = ["Migration", "SchemaError", "load_migrations", "migrate", "schema_version"]

logger = logging.getLogger(__name__)

_MODULE = re.compile(r"(\d{4})_[a-z0-9_]+")
# pg_advisory_xact_lock's key: stable across processes and versions of the service.
_LOCK_KEY = zlib.crc32(b"tts-service schema migrations")

_metadata = sa.MetaData()
schema_version = sa.Table(
    "schema_version",
    _metadata,
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


class SchemaError(TTSError):
    """The database's schema cannot be brought to this version of the service."""


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema: its number (1, 2, …), name and upgrade function."""

    number: int
    name: str
    upgrade: Callable[[Connection], None]


def load_migrations(package: str) -> list[Migration]:
    """The ``NNNN_name`` modules of ``package``, in order; they must be numbered 1..n.

    Raises:
        SchemaError: a number is missing, repeated, or a module has no ``upgrade``.
    """
    found: list[Migration] = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        match = _MODULE.fullmatch(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        upgrade = getattr(module, "upgrade", None)
        if not callable(upgrade):
            raise SchemaError(f"migration {package}.{info.name} has no upgrade(conn) function")
        found.append(Migration(int(match.group(1)), info.name, upgrade))
    found.sort(key=lambda migration: migration.number)
    numbers = [migration.number for migration in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise SchemaError(f"the migrations of {package} are not numbered 1..n: {numbers}")
    return found


def migrate(
    engine: Engine,
    component: str,
    migrations: Sequence[Migration],
    *,
    adopt: Callable[[Connection], int] | None = None,
) -> int:
    """Bring ``component``'s tables to the last of ``migrations``; its version after.

    ``adopt`` reads the version of a database made before ``schema_version`` existed (for
    SQLite files, ``PRAGMA user_version``); it is asked once, when the component has no
    row yet, so an existing installation is taken over without a stamping step.

    Raises:
        SchemaError: the database is newer than this code, or a migration failed (the
            migration's transaction is rolled back; earlier ones stay applied).
    """
    numbers = [migration.number for migration in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise SchemaError(f"the migrations of {component} are not numbered 1..n: {numbers}")
    version = _current(engine, component, adopt)
    if version > len(migrations):
        raise SchemaError(
            f"the {component} tables were written by a newer version of the service "
            f"(schema {version}, this version knows {len(migrations)}); upgrade the service"
        )
    for migration in migrations[version:]:
        try:
            with engine.begin() as conn:
                _lock(conn)
                # Another process may have applied it while we waited for the lock.
                if _read(conn, component) >= migration.number:
                    continue
                logger.info("migrating %s: %s", component, migration.name)
                migration.upgrade(conn)
                _write(conn, component, migration.number)
        except sa.exc.SQLAlchemyError as exc:
            raise SchemaError(f"migration {migration.name} of {component} failed: {exc}") from exc
    return len(migrations)


def _current(engine: Engine, component: str, adopt: Callable[[Connection], int] | None) -> int:
    """The recorded version, adopting a pre-runner database's version on first sight."""
    with engine.begin() as conn:
        _lock(conn)
        # Under the lock: four processes starting at once must not all create it.
        schema_version.create(conn, checkfirst=True)
        row = conn.execute(
            sa.select(schema_version.c.version).where(schema_version.c.component == component)
        ).first()
        if row is not None:
            return int(row[0])
        version = adopt(conn) if adopt is not None else 0
        conn.execute(sa.insert(schema_version).values(component=component, version=version))
        return version


def _read(conn: Connection, component: str) -> int:
    value = conn.execute(
        sa.select(schema_version.c.version).where(schema_version.c.component == component)
    ).scalar_one()
    return int(value)


def _write(conn: Connection, component: str, version: int) -> None:
    conn.execute(
        sa.update(schema_version)
        .where(schema_version.c.component == component)
        .values(version=version)
    )


def _lock(conn: Connection) -> None:
    """Serialise migrations across processes, until the commit.

    One key for every component: they share ``schema_version``, and migrations are rare
    enough that running them one at a time costs nothing. SQLite needs nothing more:
    every transaction of our engines is BEGIN IMMEDIATE.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
