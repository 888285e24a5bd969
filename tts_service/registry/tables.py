"""The registry's tables as SQLAlchemy Core objects: what ``store.py`` and ``webhooks.py`` query.

They describe the schema the migrations (``registry/migrations/NNNN_*.py``) build; the
migrations keep their own frozen copies, so changing a table here means adding a
migration, never editing one. Times are Unix seconds (``Float``: ``REAL`` on SQLite,
``double precision`` on PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["articles", "deliveries", "jobs", "lexicon", "metadata", "state"]

metadata = sa.MetaData()

# Job and delivery ids are 64-bit, as the API promises (BIGSERIAL on PostgreSQL); on
# SQLite an INTEGER primary key is the rowid, 64-bit already.
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("source_kind", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("selector", sa.Text),
    sa.Column("revision", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("sentences", sa.Text),
    sa.Column("target_key", sa.Text),
    sa.Column("audio_key", sa.Text),
    sa.Column("audio_version", sa.Integer),
    sa.Column("chunk_keys", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("engine", sa.Text),
    sa.Column("duration_s", sa.Float),
    sa.Column("chunks_total", sa.Integer),
    sa.Column("chunks_reused", sa.Integer),
    sa.Column("chunks_synthesised", sa.Integer),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("ready_at", sa.Float),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", _ROW_ID, primary_key=True),
    sa.Column("article_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", sa.Float, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("lease_until", sa.Float),
    sa.Column("chunks_total", sa.Integer),
    sa.Column("chunks_reused", sa.Integer),
    sa.Column("chunks_synthesised", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("started", sa.Float),
    sa.Column("finished", sa.Float),
    sa.Column("article_owner", sa.Text),
    sqlite_autoincrement=True,
)

lexicon = sa.Table(
    "lexicon",
    metadata,
    sa.Column("written", sa.Text, primary_key=True),
    sa.Column("reading", sa.Text, nullable=False),
)

state = sa.Table(
    "state",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", _ROW_ID, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt", sa.Float, nullable=False),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("delivered", sa.Float),
    sqlite_autoincrement=True,
)
