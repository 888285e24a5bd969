"""The registry's SQLite database: one connection per process, migrations kept with the code.

Migrations are the numbered ``migrations/NNNN_*.sql`` files of this package, applied in
order inside one transaction each; ``PRAGMA user_version`` records the last one applied,
so a service upgraded in place migrates its database at start-up and an older service
refuses a newer database instead of corrupting it.

Several processes may open the same file (the service and ``tts-service pregenerate``, or
several uvicorn workers): WAL mode lets readers run beside one writer, and writers wait
for each other up to ``busy_timeout``. SQLite's failures surface as
:class:`~tts_service.errors.RegistryError`.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from tts_service.errors import RegistryError

__all__ = ["Database", "migrations"]

logger = logging.getLogger(__name__)

_MIGRATION = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
# A writer in another process (a batch) holds the lock for milliseconds; wait, don't fail.
_BUSY_TIMEOUT_MS = 10_000


def migrations() -> list[tuple[int, str, str]]:
    """``(number, file name, SQL)`` of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("tts_service.registry.migrations").iterdir():
        match = _MIGRATION.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RegistryError(f"registry migrations are not numbered 1..n: {numbers}")
    return found


class Database:
    """A migrated SQLite database shared by the threads of this process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30
            )
            self._db.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as exc:
            raise RegistryError(f"cannot open the article registry at {self.path}: {exc}") from exc
        self.migrate()

    @property
    def version(self) -> int:
        """The number of the last migration applied."""
        with self.read() as db:
            (version,) = db.execute("PRAGMA user_version").fetchone()
        return int(version)

    def migrate(self) -> None:
        """Apply the migrations this database has not had yet, each in its own transaction."""
        known = migrations()
        current = self.version
        if current > len(known):
            raise RegistryError(
                f"the registry at {self.path} was written by a newer version of the service "
                f"(schema {current}, this version knows {len(known)})"
            )
        for number, name, sql in known[current:]:
            with self.write() as db:
                (applied,) = db.execute("PRAGMA user_version").fetchone()
                if applied >= number:
                    # Another process starting beside this one (`serve --workers N`)
                    # applied it between our look and our write lock.
                    continue
                logger.info("migrating the article registry: %s", name)
                # executescript() would commit our transaction: run statement by statement.
                for statement in _statements(sql):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, under this process's lock."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise RegistryError(f"the article registry failed: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back when the block raises.

        ``BEGIN IMMEDIATE`` takes the write lock at once, so a read-then-write (claiming a
        job) cannot be interleaved with another process's write.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise RegistryError(f"the article registry failed: {exc}") from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise RegistryError(f"the article registry failed: {exc}") from exc
                raise

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


def _statements(sql: str) -> Iterator[str]:
    """The statements of a migration file; comments stripped, split at semicolons."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            yield statement.strip()
