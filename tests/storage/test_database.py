"""TTS_DATABASE_URL picks the database, once: SQLite set up for many processes, or PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from tts_service.storage.database import dialect_of, open_engine


def test_sqlite_is_set_up_for_several_processes(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    try:
        with engine.connect() as conn:
            pragmas = [
                conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            ]
        assert pragmas == ["wal", 10000, 1, 1]
        assert dialect_of(engine) == "sqlite"
    finally:
        engine.dispose()


def test_sqlite_transactions_take_the_write_lock_at_once(tmp_path):
    """BEGIN IMMEDIATE: a read-then-write cannot interleave with another process's write."""
    path = tmp_path / "service.sqlite3"
    engine = open_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT 1"))  # only a read so far
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_urls_use_psycopg_3(postgres_server, scheme):
    engine = open_engine(f"{scheme}://postgres@127.0.0.1:{postgres_server.port}/postgres")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert dialect_of(engine) == "postgresql"
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 40 + 2")).scalar() == 42
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "oracle://u@h/db"])
def test_other_databases_are_refused(url):
    with pytest.raises(ValueError, match="TTS_DATABASE_URL"):
        open_engine(url)
