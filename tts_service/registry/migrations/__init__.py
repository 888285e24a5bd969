"""Registry schema migrations ``NNNN_name.py``, applied in order by ``storage.migrate``.

Each keeps a frozen copy of the tables it creates (never ``registry.tables``, which
describes the latest schema): a database made by migration 1 must look the same whatever
later migrations add. Versions 1–3 were SQL files applied by SQLite alone, recorded in
``PRAGMA user_version``; a file made then is adopted at that version, so nothing is re-run.
"""

__all__: list[str] = []
