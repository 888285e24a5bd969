"""The cache suites' backends: where the index lives (SQLite, the default index file, or a
real PostgreSQL through ``TTS_DATABASE_URL``) and where the audio lives (the cache
directory, or a bucket in SeaweedFS: tests/cache_stores.py). Tests look at the index
through plain SQL.

``backend`` (a fixture of tests/conftest.py) is each combination of the two;
``sqlite_backend`` each store with a SQLite index, for what only an old SQLite file has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.cache_stores import Stores
from tts_service.cache import AudioCache
from tts_service.storage import BlobStore

STORES = ("file", "s3")
DATABASES = ("sqlite", "postgresql")


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
        """A cache under ``root`` with its index in this database (audio in ``root``)."""
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

    def close_all(self) -> None:
        for cache in self.opened:
            cache.close()


@dataclass(frozen=True)
class CacheBackend:
    """One store and one index database for a test's caches."""

    stores: Stores
    db: IndexDB

    @property
    def name(self) -> str:
        return f"{self.stores.name}-{self.db.name}"

    @property
    def postgres(self) -> str | None:
        """The index's PostgreSQL URL, or None for SQLite (a child's ``database_url``)."""
        return self.db.postgres

    def cache(self, root: Path, **options: Any) -> AudioCache:
        """A cache under ``root``: its audio in this store, its index in this database."""
        cache = AudioCache(
            root, store=self.stores.open(root), database_url=self.db.postgres, **options
        )
        self.db.opened.append(cache)
        return cache

    # The store's side (tests/cache_stores.py).
    def url(self, root: Path) -> str:
        """The ``TTS_STORAGE_URL`` of the store behind cache directory ``root``."""
        return self.stores.url(root)

    def env(self) -> dict[str, str]:
        return self.stores.env()

    def open(self, root: Path) -> BlobStore:
        return self.stores.open(root)

    def keys(self, root: Path, prefix: str = "") -> list[str]:
        return self.stores.keys(root, prefix)

    def fail_puts(self, cache: AudioCache, monkeypatch: Any, when: Callable[[str], None]) -> None:
        self.stores.fail_puts(cache, monkeypatch, when)

    # The index's side.
    def rows(self, root: Path, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        return self.db.rows(root, sql, **params)

    def run(self, root: Path, sql: str, **params: Any) -> None:
        self.db.run(root, sql, **params)


def open_stores(request: pytest.FixtureRequest, name: str) -> Stores:
    """The store ``file`` or ``s3`` (SeaweedFS started only when asked for)."""
    if name == "file":
        return Stores("file")
    return Stores("s3", request.getfixturevalue("s3_location"))


@pytest.fixture(params=[(s, d) for d in DATABASES for s in STORES], ids=lambda p: "-".join(p))
def backend(request: pytest.FixtureRequest) -> Iterator[CacheBackend]:
    """Each cache test once per store and index database; its caches are closed after it."""
    store, database = request.param
    db = IndexDB(None if database == "sqlite" else request.getfixturevalue("postgres_url"))
    yield CacheBackend(open_stores(request, store), db)
    db.close_all()


@pytest.fixture(params=STORES)
def sqlite_backend(request: pytest.FixtureRequest) -> Iterator[CacheBackend]:
    """Each store with a SQLite index: what only an index file from before can show."""
    db = IndexDB(None)
    yield CacheBackend(open_stores(request, request.param), db)
    db.close_all()
