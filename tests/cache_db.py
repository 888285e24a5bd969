"""The cache suites' database: each test runs on SQLite (the default index file) and on a
real PostgreSQL (``TTS_DATABASE_URL``), and looks at the index through plain SQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tts_service.cache import AudioCache


@dataclass(frozen=True)
class IndexDB:
    """Where a test's cache keeps its index: ``postgres`` is its URL, or None for SQLite."""

    postgres: str | None
    opened: list[AudioCache] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "sqlite" if self.postgres is None else "postgresql"

    def url(self, root: Path) -> str:
        """The index's URL for a cache under ``root``."""
        return self.postgres or f"sqlite:///{(Path(root) / 'index.sqlite3').as_posix()}"

    def cache(self, root: Path, **options: Any) -> AudioCache:
        """A cache under ``root`` with its index in this database."""
        cache = AudioCache(root, database_url=self.postgres, **options)
        self.opened.append(cache)
        return cache

    def rows(self, root: Path, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` on the index, from a connection of its own."""
        engine = sa.create_engine(self.url(root), poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def run(self, root: Path, sql: str, **params: Any) -> None:
        """Execute ``sql`` on the index and commit (another process's hand edit)."""
        engine = sa.create_engine(self.url(root), poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(sql), params)
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def index_db(request: pytest.FixtureRequest) -> Iterator[IndexDB]:
    """Each cache test once per index backend; the caches it opened are closed after it."""
    backend = IndexDB(
        None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    yield backend
    for cache in backend.opened:
        cache.close()
