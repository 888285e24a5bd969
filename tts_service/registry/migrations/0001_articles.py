"""The article registry: what the portal's CMS registered, and the jobs that read it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

__all__ = ["upgrade"]

# Ids are 64-bit (BIGSERIAL on PostgreSQL); on SQLite an INTEGER primary key is the rowid,
# which is 64-bit already.
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: Connection) -> None:
    """Create ``articles``, ``jobs``, ``lexicon`` and ``state`` with their indexes."""
    meta = sa.MetaData()
    articles = sa.Table(
        "articles",
        meta,
        sa.Column("id", sa.Text, primary_key=True),  # the portal's article id
        sa.Column("title", sa.Text),
        sa.Column("source_kind", sa.Text, nullable=False),  # text | html | url
        sa.Column("source", sa.Text, nullable=False),  # the text, the HTML, or the page's URL
        sa.Column("selector", sa.Text),  # CSS selector of the article in HTML / URL sources
        sa.Column("revision", sa.Text),  # the CMS's own revision label, if it sends one
        sa.Column("owner", sa.Text),  # name of the API key that registered it
        sa.Column("version", sa.Integer, nullable=False),  # bumped on every content change
        sa.Column("text", sa.Text),  # the extracted article text that is normalised
        sa.Column("sentences", sa.Text),  # JSON: [[index, paragraph, written, spoken], ...]
        sa.Column("target_key", sa.Text),  # audio key the current content and lexicon need
        sa.Column("audio_key", sa.Text),  # audio key being served (the last one made)
        sa.Column("audio_version", sa.Integer),  # the version that audio was made from
        sa.Column("chunk_keys", sa.Text),  # JSON list: the chunk keys of audio_key
        sa.Column("status", sa.Text, nullable=False),  # queued | synthesising | ready | failed
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
    sa.Index("articles_status", articles.c.status, articles.c.id)
    jobs = sa.Table(
        "jobs",
        meta,
        # AUTOINCREMENT on SQLite: a job id is never reused (clients poll jobs by id).
        sa.Column("id", _ROW_ID, primary_key=True),
        sa.Column("article_id", sa.Text, nullable=False),
        # put | regenerate | lexicon | batch | upgrade
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),  # lower runs first
        # queued | running | done | failed | cancelled
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("not_before", sa.Float, nullable=False),  # backoff: not claimed before
        sa.Column("owner", sa.Text),  # host:pid:instance of the worker running it
        sa.Column("lease_until", sa.Float),  # a running job whose lease ran out is resumed
        sa.Column("chunks_total", sa.Integer),
        sa.Column("chunks_reused", sa.Integer),
        sa.Column("chunks_synthesised", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("started", sa.Float),
        sa.Column("finished", sa.Float),
        sqlite_autoincrement=True,
    )
    sa.Index("jobs_queue", jobs.c.state, jobs.c.priority, jobs.c.id)
    sa.Index("jobs_article", jobs.c.article_id, jobs.c.state)
    # The site lexicon once editors manage it through the API (seeded from TTS_SITE_LEXICON).
    sa.Table(
        "lexicon",
        meta,
        sa.Column("written", sa.Text, primary_key=True),
        sa.Column("reading", sa.Text, nullable=False),
    )
    sa.Table(
        "state",
        meta,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    meta.create_all(conn)
