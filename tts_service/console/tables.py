"""The console's tables, in the registry's database (SQLite or PostgreSQL), as Core tables.

Times are Unix seconds (``Float``). Created by the console's own migrations
(``console/migrations``, component ``console`` in ``schema_version``), apart from the
registry's, so the console's schema moves without renumbering the registry's.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["listen_days", "listen_stops", "metadata", "sessions", "signin_failures"]

metadata = sa.MetaData()

# One row per signed-in browser. ``id`` is the SHA-256 of the cookie's token, so a copy of
# the database opens no session; ``key_digest`` ties the session to the key's value, so
# removing or rotating that key in TTS_API_KEYS ends its sessions at once.
sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_name", sa.Text, nullable=False),
    sa.Column("key_digest", sa.String(64), nullable=False),
    sa.Column("csrf", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("seen", sa.Float, nullable=False),
)

# Wrong keys tried at sign-in, by client address: shared by every process of the site.
signin_failures = sa.Table(
    "console_signin_failures",
    metadata,
    sa.Column("client", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("console_signin_failures_client", "client", "at"),
)

# Listening figures (POST /v1/listens): counts per article and day (Vietnam's date), and
# where listeners stopped, by sentence. No listener, address or cookie is stored.
listen_days = sa.Table(
    "listen_days",
    metadata,
    sa.Column("article_id", sa.Text, primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("plays", sa.Integer, nullable=False, server_default="0"),
    sa.Column("q25", sa.Integer, nullable=False, server_default="0"),
    sa.Column("q50", sa.Integer, nullable=False, server_default="0"),
    sa.Column("q75", sa.Integer, nullable=False, server_default="0"),
    sa.Column("q100", sa.Integer, nullable=False, server_default="0"),
    sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
)
listen_stops = sa.Table(
    "listen_stops",
    metadata,
    sa.Column("article_id", sa.Text, primary_key=True),
    sa.Column("sentence", sa.Integer, primary_key=True),
    sa.Column("stops", sa.Integer, nullable=False, server_default="0"),
)
