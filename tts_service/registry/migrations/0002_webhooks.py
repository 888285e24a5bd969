"""Webhook deliveries: callbacks to the CMS that registered an article, kept until sent.

A restart loses none: queued rows are picked up again by the next sender.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

__all__ = ["upgrade"]

# Ids are 64-bit (BIGSERIAL on PostgreSQL); on SQLite an INTEGER primary key is the rowid,
# which is 64-bit already.
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade(conn: Connection) -> None:
    """Create ``deliveries`` and its queue index."""
    meta = sa.MetaData()
    deliveries = sa.Table(
        "deliveries",
        meta,
        # Also sent as X-TTS-Delivery, for de-duplication: never reused (AUTOINCREMENT).
        sa.Column("id", _ROW_ID, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),  # the API key whose webhook_url is called
        sa.Column("event", sa.Text, nullable=False),  # article.ready | article.failed
        sa.Column("body", sa.Text, nullable=False),  # the JSON body, byte for byte as signed
        sa.Column("state", sa.Text, nullable=False),  # queued | delivered | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt", sa.Float, nullable=False),  # backoff, or a sender's claim
        sa.Column("last_status", sa.Integer),  # the last HTTP status, NULL on network errors
        sa.Column("last_error", sa.Text),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("delivered", sa.Float),  # when a 2xx answer came
        sqlite_autoincrement=True,
    )
    sa.Index("deliveries_due", deliveries.c.state, deliveries.c.next_attempt, deliveries.c.id)
    meta.create_all(conn)
