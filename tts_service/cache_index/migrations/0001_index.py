"""The index's tables; an index made before the migration runner is adopted as it is.

A SQLite index of any earlier version (``index.sqlite3`` with no ``schema_version``) comes
here as version 0, so this step only adds what it lacks: the tables made since (``totals``),
the shortcuts' ``created`` column (their age unknown: they count from now), the indexes,
SQLite's totals triggers, and totals recounted from the entries. Entries, pins, aliases
and page validators are kept.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy import Connection

from tts_service.cache_index.tables import metadata, recount

__all__ = ["upgrade"]

# An entry is pinned when it is an article at least one owner pins.
_PINNED = "({row}.kind = 'article' AND EXISTS (SELECT 1 FROM pins WHERE pins.key = {row}.key))"

# SQLite keeps the totals with triggers, in the writer's transaction, whoever writes (a
# batch process of an older version too). PostgreSQL has none: AudioIndex updates the totals
# row in the same transaction (docs/cluster.md 1.3; PL/pgSQL would be a second language).
# Entries change size only through an upsert's UPDATE, never REPLACE, whose hidden
# deletion fires no trigger.
_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER IF NOT EXISTS totals_entry_added AFTER INSERT ON entries BEGIN
    UPDATE totals SET bytes = bytes + NEW.size
    WHERE name = 'all' OR (name = 'unpinned' AND NOT {_PINNED.format(row="NEW")});
END""",
    f"""CREATE TRIGGER IF NOT EXISTS totals_entry_removed AFTER DELETE ON entries BEGIN
    UPDATE totals SET bytes = bytes - OLD.size
    WHERE name = 'all' OR (name = 'unpinned' AND NOT {_PINNED.format(row="OLD")});
END""",
    f"""CREATE TRIGGER IF NOT EXISTS totals_entry_resized AFTER UPDATE OF size ON entries BEGIN
    UPDATE totals SET bytes = bytes - OLD.size + NEW.size
    WHERE name = 'all' OR (name = 'unpinned' AND NOT {_PINNED.format(row="NEW")});
END""",
    """CREATE TRIGGER IF NOT EXISTS totals_first_pin AFTER INSERT ON pins
WHEN (SELECT COUNT(*) FROM pins WHERE key = NEW.key) = 1 BEGIN
    UPDATE totals SET bytes = bytes - COALESCE(
        (SELECT size FROM entries WHERE kind = 'article' AND key = NEW.key), 0)
    WHERE name = 'unpinned';
END""",
    """CREATE TRIGGER IF NOT EXISTS totals_last_unpin AFTER DELETE ON pins
WHEN NOT EXISTS (SELECT 1 FROM pins WHERE key = OLD.key) BEGIN
    UPDATE totals SET bytes = bytes + COALESCE(
        (SELECT size FROM entries WHERE kind = 'article' AND key = OLD.key), 0)
    WHERE name = 'unpinned';
END""",
)


def upgrade(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)
    inspector = sa.inspect(conn)
    now = time.time()
    for name in ("aliases", "pages"):
        if "created" not in {column["name"] for column in inspector.get_columns(name)}:
            conn.exec_driver_sql(
                f"ALTER TABLE {name} ADD COLUMN created DOUBLE PRECISION NOT NULL DEFAULT 0"
            )
            conn.execute(sa.table(name, sa.column("created")).update().values(created=now))
    for table in metadata.sorted_tables:
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(conn)
    if conn.dialect.name == "sqlite":
        for trigger in _SQLITE_TRIGGERS:
            conn.exec_driver_sql(trigger)
    recount(conn)
