"""Content-addressed audio cache in a blob store, with an SQLite index for LRU eviction.

The audio lives in a :class:`~tts_service.storage.BlobStore` chosen by ``TTS_STORAGE_URL``
(default ``file://<TTS_CACHE_DIR>``: the directory itself, as it always was; or
``s3://bucket/prefix``). Keys, which are the files' paths under the directory::

    chunks/ab/<key>.mp3           one engine answer, house-format frames only
    articles/ab/<key>.mp3         the assembled article (ID3 tag + frames)
    articles/ab/<key>.vtt         its sentence timings
    articles/ab/<key>.json        its metadata; written last, so it marks the entry complete

and, in ``TTS_CACHE_DIR`` whatever the store::

    index.sqlite3                 sizes, last access, aliases, pins, running totals
    tmp/                          files being written, named after the process writing them

Articles registered by editors are *pinned* (``pin(key, owner)``): LRU eviction never
removes them, and ``TTS_CACHE_MAX_BYTES`` caps only the unpinned audio listeners' reads
left behind, so pre-generated audio stays ready however much else is read.

Every write is atomic in the store (the file store writes to ``tmp/`` first, flushes and
renames into place; S3 shows an object only once its upload is complete), so a crash leaves
at worst an orphan in ``tmp/`` — never a partial object under a servable key. An article is
servable only when its ``.json`` exists, and an index row is written only after its objects
were stored.

Several processes may share a cache (a batch beside the service), so opening one cleans up
only what is provably dead: a temporary file is named after its writer (host and pid,
``<name>.<host>-<pid>.<random>.part``) and removed when that process is gone or the file
is older than a lease (an hour, far longer than any write); while an article's files are
renamed into place a ``<key>.<host>-<pid>.writing`` marker in ``tmp/`` says so, and its
files are left alone for as long as the marker's writer lives.

Aliases (a request's key → its article) and page validators are shortcuts. They go with
the article they lead to (eviction, removal), when they expire, when they have led nowhere
for an hour (the article's job failed), and, past ``max_shortcuts`` rows, oldest first, so
the index never grows without bound.

The index keeps its byte totals (all entries, and the unpinned ones eviction may take) in a
``totals`` table maintained by triggers, so a store checks the cap in one row read instead
of summing 100,000 rows (22 ms) — and a batch process writing to the same cache keeps the
service's totals right, in the same transactions. They are recomputed when a cache opens.

Failures of the disk or of SQLite (a full disk: ``ENOSPC``, "database or disk is full")
surface as :class:`~tts_service.errors.CacheError`, never as ``OSError`` or
``sqlite3.Error``. A write that fails leaves the index and the files agreeing: what could
not be indexed is removed again. Refreshing an entry's last access is best effort.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_service.errors import CacheError
from tts_service.storage.file import HOST as _HOST
from tts_service.storage.file import FileBlobStore, writer_name
from tts_service.storage.ports import BlobStore

__all__ = ["AudioCache", "CachedArticle"]

logger = logging.getLogger(__name__)

# How often a hit refreshes an entry's last access, and how many such times are remembered.
_TOUCH_INTERVAL_S = 60.0
_TOUCHED_MAX = 100_000
# Refreshes are written together, in one transaction, once this many wait or this long
# has passed: re-reading a 51-chunk article edited in one place costs one write, not 50.
_TOUCH_BATCH = 64
_TOUCH_FLUSH_S = 5.0
# A file in tmp/ older than this is no write in progress, whoever made it: a write takes
# seconds at most, even on a slow disk.
_LEASE_S = 3600.0
# Aliases and page validators kept at most, and how often (in writes) they are pruned.
_SHORTCUTS_MAX = 100_000
_PRUNE_INTERVAL_S = 60.0
# A shortcut to an article that is neither stored nor an alias is kept this long: its job
# may still be running.
_DANGLING_S = 3600.0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_access REAL NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS entries_lru ON entries (last_access);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT NOT NULL,
    selector TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    article TEXT NOT NULL,
    created REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (url, selector)
);
CREATE TABLE IF NOT EXISTS pins (
    key TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (key, owner)
);
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    expires REAL,
    created REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS totals (
    name TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL
);
"""

# After _SCHEMA: what the shortcuts' pruning needs (on columns older indexes lack). A
# shortcut's ``created`` is stamped by SQLite whoever inserts it (an INSERT OR REPLACE too).
_SHORTCUT_INDEXES = """
CREATE INDEX IF NOT EXISTS aliases_target ON aliases (target);
CREATE INDEX IF NOT EXISTS aliases_created ON aliases (created);
CREATE INDEX IF NOT EXISTS pages_article ON pages (article);
CREATE INDEX IF NOT EXISTS pages_created ON pages (created);
CREATE TRIGGER IF NOT EXISTS aliases_created AFTER INSERT ON aliases BEGIN
    UPDATE aliases SET created = (julianday('now') - 2440587.5) * 86400.0
    WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER IF NOT EXISTS pages_created AFTER INSERT ON pages BEGIN
    UPDATE pages SET created = (julianday('now') - 2440587.5) * 86400.0
    WHERE rowid = NEW.rowid;
END;
"""

# A shortcut's column naming neither a stored article nor an alias.
_LEADS_NOWHERE = (
    "{0} NOT IN (SELECT key FROM entries WHERE kind = 'article') "
    "AND {0} NOT IN (SELECT alias FROM aliases)"
)

# An entry is pinned when it is an article at least one owner pins.
_PINNED = "({row}.kind = 'article' AND EXISTS (SELECT 1 FROM pins WHERE pins.key = {row}.key))"

# The totals follow every change of entries and pins. Entries change size only through
# _record's upsert (an UPDATE), never through REPLACE, whose deletions fire no trigger.
_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS totals_entry_added AFTER INSERT ON entries BEGIN
    UPDATE totals SET bytes = bytes + NEW.size
    WHERE name = 'all' OR (name = 'unpinned' AND NOT {_PINNED.format(row="NEW")});
END;
CREATE TRIGGER IF NOT EXISTS totals_entry_removed AFTER DELETE ON entries BEGIN
    UPDATE totals SET bytes = bytes - OLD.size
    WHERE name = 'all' OR (name = 'unpinned' AND NOT {_PINNED.format(row="OLD")});
END;
CREATE TRIGGER IF NOT EXISTS totals_entry_resized AFTER UPDATE OF size ON entries BEGIN
    UPDATE totals SET bytes = bytes - OLD.size + NEW.size
    WHERE name = 'all' OR (name = 'unpinned' AND NOT {_PINNED.format(row="NEW")});
END;
CREATE TRIGGER IF NOT EXISTS totals_first_pin AFTER INSERT ON pins
WHEN (SELECT COUNT(*) FROM pins WHERE key = NEW.key) = 1 BEGIN
    UPDATE totals SET bytes = bytes - COALESCE(
        (SELECT size FROM entries WHERE kind = 'article' AND key = NEW.key), 0)
    WHERE name = 'unpinned';
END;
CREATE TRIGGER IF NOT EXISTS totals_last_unpin AFTER DELETE ON pins
WHEN NOT EXISTS (SELECT 1 FROM pins WHERE key = OLD.key) BEGIN
    UPDATE totals SET bytes = bytes + COALESCE(
        (SELECT size FROM entries WHERE kind = 'article' AND key = OLD.key), 0)
    WHERE name = 'unpinned';
END;
"""

_RECOUNT = f"""
INSERT OR REPLACE INTO totals (name, bytes) VALUES
    ('all', (SELECT COALESCE(SUM(size), 0) FROM entries)),
    ('unpinned', (SELECT COALESCE(SUM(size), 0) FROM entries
                  WHERE NOT {_PINNED.format(row="entries")}))
"""


@dataclass(frozen=True, slots=True)
class CachedArticle:
    """A complete article in the cache: its objects' keys and sizes, and its metadata.

    ``mp3_key`` and ``vtt_key`` are keys of :attr:`AudioCache.store`; read them with
    :meth:`AudioCache.read_mp3` / :meth:`AudioCache.read_vtt`, or hand them to an HTTP
    responder, which may serve them without reading them at all.
    """

    key: str
    mp3_key: str
    vtt_key: str
    mp3_size: int
    vtt_size: int
    meta: dict[str, Any]


def blob_key(kind: str, key: str, suffix: str) -> str:
    """The store's key of a chunk's or article's object: ``chunks/ab/ab12….mp3``."""
    if not key.isalnum():
        # Keys are hex digests; anything else is a caller bug or a traversal attempt.
        raise CacheError(f"invalid cache key {key!r}")
    return f"{kind}/{key[:2]}/{key}{suffix}"


class AudioCache:
    """Stores chunk and article audio by key, evicting least recently used past a cap.

    Args:
        root: ``TTS_CACHE_DIR``: the index and the temporary files, and the audio itself
            unless ``store`` is given.
        store: where the audio objects live; ``None`` = the file store over ``root``.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        max_shortcuts: int = _SHORTCUTS_MAX,
        store: BlobStore | None = None,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.max_shortcuts = max_shortcuts
        self._pruned = time.monotonic()  # when the shortcuts were last pruned
        self._lock = threading.Lock()
        self._touched: dict[tuple[str, str], float] = {}
        # Last-access refreshes not written yet, and when they last were.
        self._pending: dict[tuple[str, str], float] = {}
        self._flushed = time.monotonic()
        try:
            (self.root / "tmp").mkdir(parents=True, exist_ok=True)
            self.store: BlobStore = store if store is not None else FileBlobStore(self.root)
            self._db = sqlite3.connect(
                self.root / "index.sqlite3", check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._add_created_columns()
            self._db.executescript(_SHORTCUT_INDEXES)
            self._db.executescript(_TRIGGERS)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cannot open the audio cache at {self.root}: {exc}") from exc
        try:
            # What an index made before the totals existed gets them from, and what puts
            # them right again should anything have written around the triggers.
            self._db.execute(_RECOUNT)
        except sqlite3.Error as exc:
            # A full disk: the triggers' totals stand; they are recounted at the next start.
            logger.warning("cache totals not recounted: %s", exc)
        self._clear_dead_tmp()
        self._reconcile()
        try:
            self._prune_shortcuts()
        except CacheError as exc:
            logger.warning("cache shortcuts not pruned: %s", exc)

    def _add_created_columns(self) -> None:
        """Give an index from before shortcuts were pruned their ``created`` column."""
        now = time.time()
        for table in ("aliases", "pages"):
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if "created" not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN created REAL NOT NULL DEFAULT 0")
                # Their age is unknown: they count from now.
                self._db.execute(f"UPDATE {table} SET created = ?", (now,))

    # -- keys --------------------------------------------------------------------------

    def _path(self, kind: str, key: str, suffix: str) -> str:
        """The store's key of an entry's object (``kind``: ``chunks`` or ``articles``)."""
        return blob_key(kind, key, suffix)

    # -- chunks ------------------------------------------------------------------------

    def get_chunk(self, key: str) -> bytes | None:
        """Return a chunk's audio, or ``None`` when it is not cached."""
        data = self.store.get(self._path("chunks", key, ".mp3"))
        if data is None:
            return None
        self._touch("chunk", key)
        return data

    def put_chunk(self, key: str, data: bytes) -> None:
        """Store a chunk's audio atomically; on failure nothing of it is left."""
        self._write_atomic(self._path("chunks", key, ".mp3"), data)
        try:
            self._record("chunk", key, len(data))
        except CacheError:
            self._remove_files("chunk", key)
            raise

    # -- articles ----------------------------------------------------------------------

    def get_article(self, key: str, *, touch: bool = True) -> CachedArticle | None:
        """Return a complete article, or ``None``; partial leftovers never count."""
        meta_key = self._path("articles", key, ".json")
        # A store that cannot be read (a bucket unreachable) raises CacheError: a 503, not
        # "missing", which would have the article made again and stored nowhere.
        raw = self.store.get(meta_key)
        if raw is None:
            return None
        try:
            meta = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            logger.warning("unreadable cache metadata %s: %s", meta_key, exc)
            return None
        mp3 = self._path("articles", key, ".mp3")
        vtt = self._path("articles", key, ".vtt")
        mp3_size = self.store.size(mp3)
        vtt_size = self.store.size(vtt) if mp3_size is not None else None
        if mp3_size is None or vtt_size is None:
            return None
        if touch:
            self._touch("article", key)
        return CachedArticle(key, mp3, vtt, mp3_size, vtt_size, meta)

    def read_mp3(self, article: CachedArticle) -> bytes:
        """The article's whole MP3; :class:`CacheError` if it went meanwhile (evicted)."""
        return self._read(article.mp3_key)

    def read_vtt(self, article: CachedArticle) -> str:
        """The article's timings; :class:`CacheError` if they went meanwhile (evicted)."""
        return self._read(article.vtt_key).decode("utf-8")

    def _read(self, blob: str) -> bytes:
        data = self.store.get(blob)
        if data is None:
            raise CacheError(f"{blob} is no longer in the audio store")
        return data

    def put_article(
        self, key: str, *, mp3: bytes | Iterable[bytes], vtt: str, meta: dict[str, Any]
    ) -> None:
        """Store an article; the metadata object is stored last.

        ``mp3`` may come in parts (an article written from its stored chunks, never whole
        in memory when the store can take parts). When any object or the index entry cannot
        be written (a full disk, an unreachable bucket), the objects already written are
        removed again and :class:`CacheError` is raised.
        """
        vtt_bytes = vtt.encode("utf-8")
        meta_bytes = json.dumps(meta, ensure_ascii=False).encode("utf-8")
        # While the objects are stored one by one, another process opening the cache must
        # not take them for a crash's leftovers.
        name = self._path("articles", key, "").rsplit("/", 1)[1]
        marker = self.root / "tmp" / f"{name}.{_owner()}.writing"
        try:
            try:
                marker.touch()
            except OSError as exc:
                raise CacheError(f"cannot write to the cache: {exc}") from exc
            size = self._write_atomic(self._path("articles", key, ".mp3"), mp3)
            self._write_atomic(self._path("articles", key, ".vtt"), vtt_bytes)
            self._write_atomic(self._path("articles", key, ".json"), meta_bytes)
            self._record("article", key, size + len(vtt_bytes) + len(meta_bytes))
        except CacheError:
            with self._index() as db:
                indexed = db.execute(
                    "SELECT 1 FROM entries WHERE kind = 'article' AND key = ?", (key,)
                ).fetchone()
            if indexed is None:
                # Not indexed, so not kept: eviction would never see these objects.
                self._remove_files("article", key)
            raise
        finally:
            marker.unlink(missing_ok=True)

    def has_chunk(self, key: str) -> bool:
        """Whether a chunk's audio is cached (without refreshing its last access)."""
        return self.store.exists(self._path("chunks", key, ".mp3"))

    # -- pins: audio of registered articles, never evicted -----------------------------

    def pin(self, key: str, owner: str) -> None:
        """Keep article ``key`` out of eviction for as long as ``owner`` holds it."""
        with self._index() as db:
            db.execute("INSERT OR IGNORE INTO pins (key, owner) VALUES (?, ?)", (key, owner))

    def unpin(self, key: str, owner: str) -> bool:
        """Release ``owner``'s pin; True when no other owner still pins ``key``."""
        with self._index() as db:
            db.execute("DELETE FROM pins WHERE key = ? AND owner = ?", (key, owner))
            row = db.execute("SELECT 1 FROM pins WHERE key = ? LIMIT 1", (key,)).fetchone()
        return row is None

    def remove(self, kind: str, key: str) -> None:
        """Delete an entry's files and index row now (an editor deleted its article).

        ``kind`` is ``"article"`` or ``"chunk"``; aliases that led to it then lead nowhere,
        and the next request for it reads it afresh.
        """
        with self._index() as db:
            db.execute("DELETE FROM entries WHERE kind = ? AND key = ?", (kind, key))
            if kind == "article":
                _forget_shortcuts(db, [key])
        self._remove_files(kind, key)

    # -- aliases: a request's key → the article that answers it ------------------------

    def set_alias(self, alias: str, target: str, *, ttl: float | None = None) -> None:
        """Point ``alias`` at article ``target``, for ``ttl`` seconds or for good."""
        expires = time.time() + ttl if ttl is not None else None
        with self._index() as db:
            db.execute(
                "INSERT OR REPLACE INTO aliases (alias, target, expires) VALUES (?, ?, ?)",
                (alias, target, expires),
            )

    def get_alias(self, alias: str) -> str | None:
        """Return the article an alias points at, unless it has expired."""
        self._maybe_prune()
        with self._index() as db:
            row = db.execute(
                "SELECT target, expires FROM aliases WHERE alias = ?", (alias,)
            ).fetchone()
        if row is None:
            return None
        target, expires = row
        if expires is not None and expires < time.time():
            return None
        return str(target)

    # -- pages read by URL: validators for conditional requests --------------------------

    def get_page(self, url: str, reading: str) -> tuple[str | None, str | None, str] | None:
        """``(etag, last_modified, article id)`` of the last read of a page, if any.

        ``reading`` is the key of how the page is read (selector, engines, voice,
        normaliser, lexicon): the same page read another way is other audio. It is kept
        in the ``selector`` column, whose old rows (a bare selector) simply never match.
        """
        with self._index() as db:
            row = db.execute(
                "SELECT etag, last_modified, article FROM pages WHERE url = ? AND selector = ?",
                (url, reading),
            ).fetchone()
        return (row[0], row[1], str(row[2])) if row else None

    def set_page(
        self,
        url: str,
        reading: str,
        *,
        etag: str | None,
        last_modified: str | None,
        article: str,
    ) -> None:
        """Remember how a page was last read (``reading``: see :meth:`get_page`), so an
        unchanged page is not read again the same way."""
        with self._index() as db:
            db.execute(
                "INSERT OR REPLACE INTO pages (url, selector, etag, last_modified, article) "
                "VALUES (?, ?, ?, ?, ?)",
                (url, reading, etag, last_modified, article),
            )

    def _maybe_prune(self) -> None:
        """Prune the shortcuts if a minute has passed: called on every read, so however fast
        they are written (a page under many URLs) they never pass the cap by more than a
        minute's worth."""
        if time.monotonic() - self._pruned < _PRUNE_INTERVAL_S:
            return
        try:
            self._prune_shortcuts()
        except CacheError as exc:
            # A full disk: the shortcuts wait; nothing a listener needs is at stake.
            logger.warning("cache shortcuts not pruned: %s", exc)

    def _prune_shortcuts(self) -> None:
        """Drop expired shortcuts, those that led nowhere for an hour, and the oldest past
        ``max_shortcuts``; aliases of an alias go with it (request → gTTS id → fallback)."""
        self._pruned = time.monotonic()
        now = time.time()
        with self._index() as db:
            db.execute("DELETE FROM aliases WHERE expires IS NOT NULL AND expires < ?", (now,))
            cutoff = now - _DANGLING_S
            # Twice: an alias whose target alias just went leads nowhere in turn.
            for _ in range(2):
                db.execute(
                    f"DELETE FROM aliases WHERE created < ? AND {_LEADS_NOWHERE.format('target')}",
                    (cutoff,),
                )
            db.execute(
                f"DELETE FROM pages WHERE created < ? AND {_LEADS_NOWHERE.format('article')}",
                (cutoff,),
            )
            for table in ("aliases", "pages"):
                db.execute(
                    f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} "
                    "ORDER BY created DESC LIMIT -1 OFFSET ?)",
                    (self.max_shortcuts,),
                )

    # -- bookkeeping -------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        """Bytes of all indexed entries."""
        return self._total("all")

    def _total(self, name: str) -> int:
        """A running total from the index: one row, however many entries."""
        with self._index() as db:
            row = db.execute("SELECT bytes FROM totals WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def writable(self) -> bool:
        """True when a file can be created in the cache (for ``/readyz``)."""
        probe = self.root / "tmp" / f"probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
        except OSError:
            return False
        finally:
            # Created even when the write fails: a probe a second must not pile up files.
            probe.unlink(missing_ok=True)
        return True

    def close(self) -> None:
        """Write the pending last-access refreshes, then close the index."""
        self._flush_touches()
        with self._lock:
            self._db.close()

    @contextmanager
    def _index(self) -> Iterator[sqlite3.Connection]:
        """The index, under the lock; SQLite's failures are raised as :class:`CacheError`."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise CacheError(f"the cache index failed: {exc}") from exc

    def _write_atomic(self, blob: str, data: bytes | Iterable[bytes]) -> int:
        """Store ``data`` (bytes, or parts) under ``blob`` atomically; the bytes written.

        The file store names its temporary file after its writer (host and pid), so another
        process opening the cache can tell a crash's leftovers from work in progress.
        """
        return self.store.put_atomic(blob, data)

    def _record(self, kind: str, key: str, size: int) -> None:
        with self._index() as db:
            # An upsert, not INSERT OR REPLACE: the totals' triggers see a replaced entry's
            # old size go (an UPDATE), where REPLACE's hidden delete would fire nothing.
            db.execute(
                "INSERT INTO entries (key, kind, size, last_access) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET "
                "size = excluded.size, last_access = excluded.last_access",
                (key, kind, size, time.time()),
            )
        self._evict()

    def _touch(self, kind: str, key: str) -> None:
        self._maybe_prune()
        # A popular article is read many times a second; its place in the LRU order only
        # needs refreshing once a minute, not with a disk write per listener.
        now = time.time()
        if now - self._touched.get((kind, key), 0.0) < _TOUCH_INTERVAL_S:
            return
        if len(self._touched) > _TOUCHED_MAX:
            self._touched.clear()
        self._touched[(kind, key)] = now
        with self._lock:
            self._pending[(kind, key)] = now
            due = (
                len(self._pending) >= _TOUCH_BATCH
                or time.monotonic() - self._flushed >= _TOUCH_FLUSH_S
            )
        if due:
            self._flush_touches()

    def _flush_touches(self) -> None:
        """Write the pending last-access refreshes in one transaction.

        Only the LRU order is at stake: a read must not fail because this write did, and
        refreshes a crash loses only make some entries look a little older than they are.
        """
        with self._lock:
            pending, self._pending = self._pending, {}
            self._flushed = time.monotonic()
        if not pending:
            return
        rows = [(at, kind, key) for (kind, key), at in pending.items()]
        try:
            with self._index() as db:
                db.execute("BEGIN")
                try:
                    db.executemany(
                        "UPDATE entries SET last_access = MAX(last_access, ?) "
                        "WHERE kind = ? AND key = ?",
                        rows,
                    )
                    db.execute("COMMIT")
                except sqlite3.Error:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
        except CacheError as exc:
            logger.warning("cannot refresh %d entries in the index: %s", len(rows), exc)

    def _evict(self) -> None:
        """Delete least recently used entries until the cache fits ``max_bytes``."""
        if self._total("unpinned") <= self.max_bytes:
            return
        # The order must know of the latest reads before it picks what goes.
        self._flush_touches()
        with self._index() as db:
            (total,) = db.execute("SELECT bytes FROM totals WHERE name = 'unpinned'").fetchone()
            victims = []
            for key, kind, size in db.execute(
                "SELECT key, kind, size FROM entries "
                f"WHERE NOT {_PINNED.format(row='entries')} ORDER BY last_access"
            ):
                if total <= self.max_bytes:
                    break
                victims.append((key, kind))
                total -= size
            # One transaction: if the disk is full, no row goes and so no file goes.
            db.execute("BEGIN")
            try:
                db.executemany(
                    "DELETE FROM entries WHERE kind = ? AND key = ?",
                    [(kind, key) for key, kind in victims],
                )
                _forget_shortcuts(db, [key for key, kind in victims if kind == "article"])
                db.execute("COMMIT")
            except sqlite3.Error:
                if db.in_transaction:  # SQLite may already have rolled it back itself
                    db.execute("ROLLBACK")
                raise
        for key, kind in victims:
            logger.info("evicting %s %s", kind, key)
            self._remove_files(kind, key)

    def _remove_files(self, kind: str, key: str) -> None:
        if kind == "chunk":
            self.store.delete(self._path("chunks", key, ".mp3"))
            return
        # The metadata goes first: the article stops being servable before its audio goes.
        for suffix in (".json", ".mp3", ".vtt"):
            self.store.delete(self._path("articles", key, suffix))

    def _clear_dead_tmp(self) -> None:
        """Remove what crashed writers left in ``tmp/``; never a live process's files."""
        now = time.time()
        for leftover in (self.root / "tmp").iterdir():
            try:
                age = now - leftover.stat().st_mtime
            except FileNotFoundError:
                continue  # its writer finished with it just now
            if age > _LEASE_S or _writer_is_dead(leftover.name):
                leftover.unlink(missing_ok=True)

    def _being_written(self) -> set[str]:
        """Keys of articles a live process is storing (their markers)."""
        return {marker.name.split(".", 1)[0] for marker in (self.root / "tmp").glob("*.writing")}

    def _reconcile(self) -> None:
        """Make the index and the store agree after a crash or a manual clean-up.

        One listing of the store, not a request per entry: with S3 and 100,000 entries that
        is 100 ``ListObjectsV2`` pages instead of 100,000 ``HEAD`` requests.
        """
        with self._index() as db:
            rows = db.execute("SELECT key, kind FROM entries").fetchall()
        known = {(kind, key) for key, kind in rows}
        sizes = _stored(self.store, "chunks/")
        articles: dict[str, set[str]] = {}
        for blob in self.store.list("articles/"):
            stem, suffix = _entry_of(blob)
            if stem:
                articles.setdefault(stem, set()).add(suffix)
        complete = {key for key, suffixes in articles.items() if {"json", "mp3", "vtt"} <= suffixes}
        for kind, key in known:
            present = key in sizes if kind == "chunk" else key in complete
            if not present:
                with self._index() as db:
                    db.execute("DELETE FROM entries WHERE kind = ? AND key = ?", (kind, key))
                    if kind == "article":
                        _forget_shortcuts(db, [key])
                self._remove_files(kind, key)
        # Objects the index does not know (a crash between the store's write and the
        # index's) are indexed if complete, removed if not.
        for key in sizes.keys() - {key for kind, key in known if kind == "chunk"}:
            size = self.store.size(self._path("chunks", key, ".mp3"))
            if size is not None:
                self._record("chunk", key, size)
        # Dead markers are gone already (_clear_dead_tmp): these writers are alive.
        writing = self._being_written()
        for key, suffixes in articles.items():
            if ("article", key) in known or key in writing:
                continue
            if key not in complete or self.get_article(key, touch=False) is None:
                for suffix in suffixes:
                    self.store.delete(self._path("articles", key, f".{suffix}"))
                continue
            total = 0
            for suffix in ("mp3", "vtt", "json"):
                total += self.store.size(self._path("articles", key, f".{suffix}")) or 0
            self._record("article", key, total)


def _stored(store: BlobStore, prefix: str) -> dict[str, str]:
    """Entry keys under ``chunks/`` or ``articles/`` → one of their objects' keys.

    Objects whose names are not ``<hex key>.<suffix>`` (a stray file) are left alone.
    """
    found: dict[str, str] = {}
    for blob in store.list(prefix):
        stem, _ = _entry_of(blob)
        if stem:
            found[stem] = blob
    return found


def _entry_of(blob: str) -> tuple[str, str]:
    """``("ab12…", "mp3")`` for ``articles/ab/ab12….mp3``; ``("", "")`` for a stray name."""
    parts = blob.split("/")
    if len(parts) != 3:
        return "", ""
    stem, _, suffix = parts[2].partition(".")
    if not stem.isalnum() or parts[1] != stem[:2]:
        return "", ""
    return stem, suffix


def _forget_shortcuts(db: sqlite3.Connection, articles: list[str]) -> None:
    """Delete the aliases and page validators that lead to ``articles`` (being removed)."""
    rows = [(key,) for key in articles]
    db.executemany("DELETE FROM aliases WHERE target = ?", rows)
    db.executemany("DELETE FROM pages WHERE article = ?", rows)


def _owner() -> str:
    """This process, as named in its temporary files: ``<host>-<pid>``."""
    return writer_name()


def _writer_is_dead(name: str) -> bool:
    """Whether the process named in a ``tmp/`` file's name is provably gone.

    Only a process of this host can be checked; a file of another host, or one named in
    another way (an older version), is left to the lease.
    """
    parts = name.split(".")
    owner = parts[-2] if name.endswith(".writing") else parts[-3] if len(parts) >= 4 else ""
    host, _, pid = owner.partition("-")
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists but is not ours to signal (another user): alive
    return False
