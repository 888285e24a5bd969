"""The console's tables are migrated once per database, beside the registry's.

They are their own component of ``schema_version`` (``console``), with their own numbered
migrations (``console/migrations``): the console can be added to a running installation,
or changed, without renumbering the registry's migrations.
"""

from __future__ import annotations

import threading
import weakref

from tts_service.registry.db import Database
from tts_service.storage.migrate import load_migrations, migrate

__all__ = ["ensure_tables"]

_LOCK = threading.Lock()
_DONE: weakref.WeakSet[object] = weakref.WeakSet()


def ensure_tables(db: Database) -> None:
    """Bring the console's tables in ``db`` up to date (once per engine and process)."""
    with _LOCK:
        if db.engine in _DONE:
            return
        migrate(db.engine, "console", load_migrations("tts_service.console.migrations"))
        _DONE.add(db.engine)
