"""The audio index's tables, as SQLAlchemy Core: the one description both dialects use.

The names and columns are those of the SQLite index the cache always had
(``index.sqlite3``), so an existing index is adopted as it is (migration 0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

__all__ = [
    "TOTALS",
    "aliases",
    "entries",
    "metadata",
    "pages",
    "pinned",
    "pins",
    "recount",
    "totals",
]

metadata = sa.MetaData()

# One row per stored chunk or article: its size and last access (seconds since the epoch).
entries = sa.Table(
    "entries",
    metadata,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("last_access", sa.Double, nullable=False),
    sa.PrimaryKeyConstraint("kind", "key"),
    sa.Index("entries_lru", "last_access"),
)

# Page validators: how a page was last read (``selector`` holds the reading's key).
pages = sa.Table(
    "pages",
    metadata,
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("selector", sa.Text, nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("article", sa.Text, nullable=False),
    sa.Column("created", sa.Double, nullable=False, server_default=sa.text("0")),
    sa.PrimaryKeyConstraint("url", "selector"),
    sa.Index("pages_article", "article"),
    sa.Index("pages_created", "created"),
)

# Owners (registered articles) keeping an article out of eviction.
pins = sa.Table(
    "pins",
    metadata,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("key", "owner"),
)

# A request's key → the article that answers it.
aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("alias", sa.Text, primary_key=True),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("expires", sa.Double),
    sa.Column("created", sa.Double, nullable=False, server_default=sa.text("0")),
    sa.Index("aliases_target", "target"),
    sa.Index("aliases_created", "created"),
)

# Running byte totals: 'all' entries, and the 'unpinned' ones eviction may take.
totals = sa.Table(
    "totals",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("bytes", sa.BigInteger, nullable=False),
)

TOTALS = ("all", "unpinned")


def pinned(row: sa.TableClause | sa.Table) -> sa.ColumnElement[bool]:
    """Whether ``row`` (``entries`` or an alias of it) is an article some owner pins."""
    return sa.and_(
        row.c.kind == "article",
        sa.exists().where(pins.c.key == row.c.key),
    )


def recount(conn: Connection) -> None:
    """Set the totals from the entries (callers make sure no writer runs meanwhile)."""
    everything = sa.select(sa.func.coalesce(sa.func.sum(entries.c.size), 0))
    loose = everything.where(sa.not_(pinned(entries)))
    conn.execute(totals.delete())
    for name, query in zip(TOTALS, (everything, loose), strict=True):
        conn.execute(totals.insert().values(name=name, bytes=query.scalar_subquery()))
