"""Articles belong to the API key that registered them (see ``registry/access.py``).

``articles.owner`` used to be the key that last wrote an article; from now on it is set
when the article is first registered and never changed by later edits. Rows from before
keep the owner they have: the key that last wrote them, whose webhook already got their
callbacks, so a CMS keeps its own articles across the upgrade. Rows with no owner (the
command line's ``pregenerate`` registered them) belong to the site: admin keys only.

A job remembers whose article it read, so a job of a deleted article is never shown to a
key that later registers the same id. Jobs from before take their article's owner; those
of articles already deleted belong to the site.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

__all__ = ["upgrade"]


def upgrade(conn: Connection) -> None:
    """Add ``jobs.article_owner`` (filled from the articles) and the per-owner index."""
    # ADD COLUMN with a nullable type is the same statement on both dialects.
    conn.execute(sa.text("ALTER TABLE jobs ADD COLUMN article_owner TEXT"))
    meta = sa.MetaData()
    articles = sa.Table(
        "articles",
        meta,
        sa.Column("id", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("status", sa.Text),
    )
    jobs = sa.Table(
        "jobs", meta, sa.Column("article_id", sa.Text), sa.Column("article_owner", sa.Text)
    )
    owner = sa.select(articles.c.owner).where(articles.c.id == jobs.c.article_id).scalar_subquery()
    conn.execute(sa.update(jobs).values(article_owner=owner))
    sa.Index("articles_owner", articles.c.owner, articles.c.status, articles.c.id).create(conn)
