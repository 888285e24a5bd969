"""The console's first tables: sessions, failed sign-ins and listening figures."""

from __future__ import annotations

from sqlalchemy import Connection

from tts_service.console import tables

__all__ = ["upgrade"]


def upgrade(conn: Connection) -> None:
    """Create the console's tables (none existed before this version)."""
    tables.metadata.create_all(conn)
