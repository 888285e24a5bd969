"""The console's tables, kept in the registry's database beside the articles they concern.

They are created if missing rather than numbered into the registry's migrations: the
console can be added to (or removed from) a running installation without moving the
registry's schema version, and an older service that ignores these tables keeps working.
"""

from __future__ import annotations

from tts_service.registry.db import Database

__all__ = ["ensure_tables"]

_TABLES = (
    # One row per signed-in browser. ``id`` is the SHA-256 of the cookie's token, so a copy
    # of the database opens no session; ``key_digest`` ties the session to the key's value,
    # so removing or rotating that key in TTS_API_KEYS ends its sessions at once.
    """CREATE TABLE IF NOT EXISTS console_sessions (
        id TEXT PRIMARY KEY,
        key_name TEXT NOT NULL,
        key_digest TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created REAL NOT NULL,
        seen REAL NOT NULL
    )""",
    # Wrong keys tried at sign-in, by client address: shared by every process of the site.
    """CREATE TABLE IF NOT EXISTS console_signin_failures (
        client TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS console_signin_failures_client "
    "ON console_signin_failures (client, at)",
    # Listening figures (POST /v1/listens): counts per article and day (Vietnam's date),
    # and where listeners stopped, by sentence. No listener, address or cookie is stored.
    """CREATE TABLE IF NOT EXISTS listen_days (
        article_id TEXT NOT NULL,
        day TEXT NOT NULL,
        plays INTEGER NOT NULL DEFAULT 0,
        q25 INTEGER NOT NULL DEFAULT 0,
        q50 INTEGER NOT NULL DEFAULT 0,
        q75 INTEGER NOT NULL DEFAULT 0,
        q100 INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (article_id, day)
    )""",
    """CREATE TABLE IF NOT EXISTS listen_stops (
        article_id TEXT NOT NULL,
        sentence INTEGER NOT NULL,
        stops INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (article_id, sentence)
    )""",
)


def ensure_tables(db: Database) -> None:
    """Create the console's tables in ``db`` unless they exist (one transaction)."""
    with db.write() as conn:
        for statement in _TABLES:
            conn.execute(statement)
