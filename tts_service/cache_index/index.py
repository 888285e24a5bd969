"""The audio cache's index on SQLAlchemy Core: sizes, last access, pins, shortcuts, totals.

One :class:`AudioIndex` per process over an :class:`~sqlalchemy.engine.Engine`: SQLite
(the cache's ``index.sqlite3``, by default) or PostgreSQL (``TTS_DATABASE_URL``), the same
statements for both (docs/cluster.md, section 1.3). It decides *which* entries exist and
which go; the files (or objects) are the cache's business.

The byte totals (all entries; the unpinned ones eviction may take) are one row each, so a
store checks the cap in one read instead of summing 100,000 rows. SQLite keeps them with
triggers (migration 0001). PostgreSQL has no triggers: every change of entries or pins
updates the totals rows in its own transaction. There, writers of the same key take a
transaction-scoped advisory lock on it first (several keys: in one sorted order, so two
evictions cannot deadlock), so "read the old size, write, add the difference" sees no other
writer in between; SQLite's ``BEGIN IMMEDIATE`` already makes every writer exclusive.

A cache hit costs no statement: its last access is remembered in memory and written in
batches (:meth:`touch`). Plain reads (an alias, a page's validators, a total) go through
:func:`~tts_service.storage.database.read_engine`: on SQLite they never take the write
lock, so they run beside another process's writer, as WAL allows.

Every failure of the database surfaces as :class:`~tts_service.errors.CacheError`.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from tts_service.cache_index.tables import aliases, entries, pages, pinned, pins, recount, totals
from tts_service.errors import CacheError, TTSError
from tts_service.storage.database import dialect_of, open_engine, read_engine
from tts_service.storage.migrate import load_migrations, migrate

__all__ = ["COMPONENT", "AudioIndex"]

logger = logging.getLogger(__name__)

# The index's name in schema_version.
COMPONENT = "audio_index"

# How often a hit refreshes an entry's last access, and how many such times are remembered.
TOUCH_INTERVAL_S = 60.0
_TOUCHED_MAX = 100_000
# Refreshes are written together, in one transaction, once this many wait or this long
# has passed: re-reading a 51-chunk article edited in one place costs one write, not 50.
TOUCH_BATCH = 64
TOUCH_FLUSH_S = 5.0
# Aliases and page validators kept at most, and how often they are pruned.
SHORTCUTS_MAX = 100_000
PRUNE_INTERVAL_S = 60.0
# A shortcut to an article that is neither stored nor an alias is kept this long: its job
# may still be running.
DANGLING_S = 3600.0
# Rows per DELETE … IN (…) (SQLite's limit on bound parameters).
_BATCH = 400

Key = tuple[str, str]  # (kind, key)


class AudioIndex:
    """What the audio cache has, in which LRU order, what is pinned, and its shortcuts."""

    def __init__(self, engine: Engine, *, max_shortcuts: int = SHORTCUTS_MAX) -> None:
        """Take over ``engine`` (closed with the index), bringing its tables up to date.

        Raises:
            CacheError: the database cannot be reached or migrated.
        """
        self.engine = engine
        self.dialect = dialect_of(engine)
        self.max_shortcuts = max_shortcuts
        self._reads = read_engine(engine)
        self._lookups = _Lookups(self._reads)
        self._lock = threading.Lock()
        self._touched: dict[Key, float] = {}
        # Last-access refreshes not written yet, and when they last were.
        self._pending: dict[Key, float] = {}
        self._flushed = time.monotonic()
        self._pruned = time.monotonic()
        try:
            migrate(engine, COMPONENT, load_migrations("tts_service.cache_index.migrations"))
        except (TTSError, sa.exc.SQLAlchemyError) as exc:
            self._lookups.close()
            engine.dispose()
            raise CacheError(f"cannot open the audio index: {exc}") from exc
        if self.dialect == "sqlite":
            try:
                # Puts them right should anything have written around the triggers (an older
                # version's batch, a hand edit). PostgreSQL's are kept in the writers'
                # transactions and never drift; recounting there would stop every writer.
                with self._write() as conn:
                    recount(conn)
            except CacheError as exc:
                # A full disk: the triggers' totals stand; they are recounted next time.
                logger.warning("cache totals not recounted: %s", exc)

    @classmethod
    def open(cls, url: str, *, max_shortcuts: int = SHORTCUTS_MAX) -> AudioIndex:
        """The index in the database at ``url`` (``sqlite:///…`` or ``postgresql://…``)."""
        try:
            engine = open_engine(url)
        except (ValueError, sa.exc.SQLAlchemyError) as exc:
            raise CacheError(f"cannot open the audio index at {url!r}: {exc}") from exc
        return cls(engine, max_shortcuts=max_shortcuts)

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction (SQLite: ``BEGIN IMMEDIATE``); failures as :class:`CacheError`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise CacheError(f"the cache index failed: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for plain reads (SQLite: no write lock)."""
        try:
            with self._reads.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise CacheError(f"the cache index failed: {exc}") from exc

    # -- entries -----------------------------------------------------------------------

    def record(self, kind: str, key: str, size: int) -> None:
        """Index an entry just stored (or stored again: its size may change)."""
        row = {"key": key, "kind": kind, "size": size, "now": time.time()}
        with self._write() as conn:
            if self.dialect != "postgresql":
                # An upsert, not INSERT OR REPLACE: the totals' triggers see a replaced
                # entry's old size go (an UPDATE), where REPLACE's hidden delete fires nothing.
                conn.execute(_upsert_entry(self.dialect), row)
                return
            _lock_keys(conn, [key])
            old = conn.execute(
                sa.select(entries.c.size).where(entries.c.kind == kind, entries.c.key == key)
            ).scalar()
            conn.execute(_upsert_entry(self.dialect), row)
            delta = size - int(old or 0)
            _add_totals(conn, delta, 0 if _is_pinned(conn, kind, key) else delta)

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry is indexed."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(sa.literal(1)).where(entries.c.kind == kind, entries.c.key == key)
            ).first()
        return row is not None

    def keys(self) -> list[Key]:
        """Every indexed ``(kind, key)`` (to reconcile the index with the stored audio)."""
        with self._read() as conn:
            return [
                (str(kind), str(key))
                for kind, key in conn.execute(sa.select(entries.c.kind, entries.c.key))
            ]

    def remove(self, kind: str, key: str) -> None:
        """Forget an entry (and, for an article, the shortcuts leading to it)."""
        with self._write() as conn:
            self._delete(conn, [(kind, key)], only_unpinned=False)

    def total(self, name: str = "all") -> int:
        """A running total (``"all"`` or ``"unpinned"``): one row, however many entries."""
        row = self._lookups.first(_TOTAL, name=name)
        return int(row[0]) if row else 0

    def evict(self, max_bytes: int) -> list[Key]:
        """Forget least recently used unpinned entries until they fit ``max_bytes``.

        Returns what was forgotten, whose audio the caller deletes. One transaction: when
        the database cannot write (a full disk), no row goes, so no file goes either.
        """
        if self.total("unpinned") <= max_bytes:
            return []
        # The order must know of the latest reads before it picks what goes.
        self.flush()
        with self._write() as conn:
            total = int(
                conn.execute(
                    sa.select(totals.c.bytes).where(totals.c.name == "unpinned")
                ).scalar_one()
            )
            victims: list[Key] = []
            # In pages: a few victims are wanted, out of perhaps 300,000 rows.
            result = conn.execute(
                sa.select(entries.c.kind, entries.c.key, entries.c.size)
                .where(sa.not_(pinned(entries)))
                .order_by(entries.c.last_access)
                .execution_options(yield_per=256)
            )
            for kind, key, size in result:
                if total <= max_bytes:
                    break
                victims.append((str(kind), str(key)))
                total -= int(size)
            result.close()
            # Pinned meanwhile (another process, PostgreSQL): it stays.
            return self._delete(conn, victims, only_unpinned=True)

    def _delete(
        self, conn: Connection, victims: Sequence[Key], *, only_unpinned: bool
    ) -> list[Key]:
        """Delete entries and their shortcuts; keep the totals (PostgreSQL); what went."""
        if not victims:
            return []
        postgres = self.dialect == "postgresql"
        if postgres:
            _lock_keys(conn, [key for _, key in victims])
        gone: list[Key] = []
        freed = freed_unpinned = 0
        for start in range(0, len(victims), _BATCH):
            part = victims[start : start + _BATCH]
            where: sa.ColumnElement[bool] = sa.tuple_(entries.c.kind, entries.c.key).in_(part)
            if only_unpinned:
                where = sa.and_(where, sa.not_(pinned(entries)))
            if postgres:
                # The pin state before the delete decides which total the bytes leave.
                rows = conn.execute(
                    sa.select(
                        entries.c.kind,
                        entries.c.key,
                        entries.c.size,
                        pinned(entries).label("pinned"),
                    ).where(where)
                ).all()
                conn.execute(entries.delete().where(where))
                for kind, key, size, is_pinned in rows:
                    gone.append((str(kind), str(key)))
                    freed += int(size)
                    freed_unpinned += 0 if is_pinned else int(size)
            else:
                rows = conn.execute(
                    entries.delete().where(where).returning(entries.c.kind, entries.c.key)
                ).all()
                gone.extend((str(kind), str(key)) for kind, key in rows)
        if postgres:
            _add_totals(conn, -freed, -freed_unpinned)
        _forget_shortcuts(conn, [key for kind, key in gone if kind == "article"])
        return gone

    # -- last access: batched ----------------------------------------------------------

    def touch(self, kind: str, key: str) -> None:
        """Note a read of an entry; written with others later (:meth:`flush`)."""
        self.maybe_prune()
        # A popular article is read many times a second; its place in the LRU order only
        # needs refreshing once a minute, not with a disk write per listener.
        now = time.time()
        if now - self._touched.get((kind, key), 0.0) < TOUCH_INTERVAL_S:
            return
        if len(self._touched) > _TOUCHED_MAX:
            self._touched.clear()
        self._touched[(kind, key)] = now
        with self._lock:
            self._pending[(kind, key)] = now
            due = (
                len(self._pending) >= TOUCH_BATCH
                or time.monotonic() - self._flushed >= TOUCH_FLUSH_S
            )
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the pending last-access refreshes in one transaction.

        Only the LRU order is at stake: a read must not fail because this write did, and
        refreshes a crash loses only make some entries look a little older than they are.
        """
        with self._lock:
            pending, self._pending = self._pending, {}
            self._flushed = time.monotonic()
        if not pending:
            return
        rows = [{"at": at, "k": kind, "x": key} for (kind, key), at in pending.items()]
        # Never moves an entry back: another process may have refreshed it later.
        greatest = sa.func.max if self.dialect == "sqlite" else sa.func.greatest
        statement = (
            entries.update()
            .where(entries.c.kind == sa.bindparam("k"), entries.c.key == sa.bindparam("x"))
            .values(last_access=greatest(entries.c.last_access, sa.bindparam("at")))
        )
        try:
            with self._write() as conn:
                conn.execute(statement, rows)
        except CacheError as exc:
            logger.warning("cannot refresh %d entries in the index: %s", len(rows), exc)

    # -- pins --------------------------------------------------------------------------

    def pin(self, key: str, owner: str) -> None:
        """Keep article ``key`` out of eviction for as long as ``owner`` holds it."""
        with self._write() as conn:
            if self.dialect != "postgresql":
                conn.execute(
                    _insert(self.dialect, pins)
                    .values(key=key, owner=owner)
                    .on_conflict_do_nothing()
                )
                return
            _lock_keys(conn, [key])
            first = not _is_pinned(conn, "article", key)
            added = conn.execute(
                _insert(self.dialect, pins)
                .values(key=key, owner=owner)
                .on_conflict_do_nothing()
                .returning(pins.c.key)
            ).first()
            if added is not None and first:
                _add_totals(conn, 0, -_article_size(conn, key))

    def unpin(self, key: str, owner: str) -> bool:
        """Release ``owner``'s pin; True when no other owner still pins ``key``."""
        with self._write() as conn:
            if self.dialect == "postgresql":
                _lock_keys(conn, [key])
            removed = conn.execute(
                pins.delete().where(pins.c.key == key, pins.c.owner == owner).returning(pins.c.key)
            ).first()
            last = not _is_pinned(conn, "article", key)
            if self.dialect == "postgresql" and removed is not None and last:
                _add_totals(conn, 0, _article_size(conn, key))
        return last

    # -- aliases: a request's key → the article that answers it ------------------------

    def set_alias(self, alias: str, target: str, *, ttl: float | None = None) -> None:
        """Point ``alias`` at article ``target``, for ``ttl`` seconds or for good."""
        now = time.time()
        values = {
            "target": target,
            "expires": now + ttl if ttl is not None else None,
            "created": now,
        }
        insert = _insert(self.dialect, aliases).values(alias=alias, **values)
        with self._write() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=["alias"], set_=values))

    def get_alias(self, alias: str) -> str | None:
        """Return the article an alias points at, unless it has expired."""
        self.maybe_prune()
        row = self._lookups.first(_ALIAS, alias=alias)
        if row is None:
            return None
        target, expires = row
        if expires is not None and expires < time.time():
            return None
        return str(target)

    # -- pages read by URL: validators for conditional requests --------------------------

    def get_page(self, url: str, reading: str) -> tuple[str | None, str | None, str] | None:
        """``(etag, last_modified, article id)`` of the last read of a page, if any."""
        row = self._lookups.first(_PAGE, url=url, reading=reading)
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
        """Remember how a page was last read."""
        values = {
            "etag": etag,
            "last_modified": last_modified,
            "article": article,
            "created": time.time(),
        }
        insert = _insert(self.dialect, pages).values(url=url, selector=reading, **values)
        with self._write() as conn:
            conn.execute(
                insert.on_conflict_do_update(index_elements=["url", "selector"], set_=values)
            )

    # -- pruning the shortcuts ---------------------------------------------------------

    def maybe_prune(self) -> None:
        """Prune the shortcuts if a minute has passed: called on every read, so however fast
        they are written (a page under many URLs) they never pass the cap by more than a
        minute's worth."""
        if time.monotonic() - self._pruned < PRUNE_INTERVAL_S:
            return
        try:
            self.prune_shortcuts()
        except CacheError as exc:
            # A full disk: the shortcuts wait; nothing a listener needs is at stake.
            logger.warning("cache shortcuts not pruned: %s", exc)

    def prune_shortcuts(self) -> None:
        """Drop expired shortcuts, those that led nowhere for an hour, and the oldest past
        ``max_shortcuts``; aliases of an alias go with it (request → gTTS id → fallback)."""
        self._pruned = time.monotonic()
        now = time.time()
        cutoff = now - DANGLING_S
        with self._write() as conn:
            conn.execute(
                aliases.delete().where(aliases.c.expires.is_not(None), aliases.c.expires < now)
            )
            # Twice: an alias whose target alias just went leads nowhere in turn.
            for _ in range(2):
                conn.execute(
                    aliases.delete().where(
                        aliases.c.created < cutoff, _leads_nowhere(aliases.c.target)
                    )
                )
            conn.execute(
                pages.delete().where(pages.c.created < cutoff, _leads_nowhere(pages.c.article))
            )
            newest_aliases = (
                sa.select(aliases.c.alias)
                .order_by(aliases.c.created.desc())
                .offset(self.max_shortcuts)
                .scalar_subquery()
            )
            conn.execute(aliases.delete().where(aliases.c.alias.in_(newest_aliases)))
            old_pages = (
                sa.select(pages.c.url, pages.c.selector)
                .order_by(pages.c.created.desc())
                .offset(self.max_shortcuts)
            )
            conn.execute(
                pages.delete().where(sa.tuple_(pages.c.url, pages.c.selector).in_(old_pages))
            )

    # -- health, life ------------------------------------------------------------------

    def reachable(self) -> bool:
        """Whether the database answers (for ``/readyz``)."""
        try:
            with self._read() as conn:
                conn.execute(sa.select(sa.literal(1)))
        except CacheError:
            return False
        return True

    def close(self) -> None:
        """Write the pending refreshes, then close the database's connections."""
        self.flush()
        self._lookups.close()
        self.engine.dispose()


# -- statements ------------------------------------------------------------------------

# The lookups of a cache hit and of every store's cap check, built once.
_ALIAS = sa.select(aliases.c.target, aliases.c.expires).where(
    aliases.c.alias == sa.bindparam("alias")
)
_PAGE = sa.select(pages.c.etag, pages.c.last_modified, pages.c.article).where(
    pages.c.url == sa.bindparam("url"), pages.c.selector == sa.bindparam("reading")
)
_TOTAL = sa.select(totals.c.bytes).where(totals.c.name == sa.bindparam("name"))


class _Lookups:
    """The one-row reads on a hit's path, as cheap as the dialect allows.

    On SQLite they cost what the old ``sqlite3`` index cost: one connection kept for them
    (autocommit, so no write lock; WAL gives each statement a consistent snapshot beside a
    writer), used under a lock, with each statement compiled from Core once. Through
    SQLAlchemy's full path (pool checkout, compile cache, result objects, reset on return)
    an alias lookup took 40 times as long (docs/benchmarks.md). On PostgreSQL the network
    round trip dominates, so they take the ordinary pooled path.
    """

    def __init__(self, reads: Engine) -> None:
        self._reads = reads
        self._lock = threading.Lock()
        self._compiled: dict[int, tuple[str, tuple[str, ...]]] = {}
        self._raw: Any = None
        if dialect_of(reads) == "sqlite":
            try:
                self._raw = reads.raw_connection()
            except sa.exc.SQLAlchemyError as exc:
                raise CacheError(f"cannot open the audio index: {exc}") from exc

    def first(self, statement: sa.Select[Any], **params: Any) -> tuple[Any, ...] | None:
        """The first row of ``statement`` with ``params``, or None."""
        if self._raw is None:
            try:
                with self._reads.connect() as conn:
                    row = conn.execute(statement, params).first()
            except sa.exc.SQLAlchemyError as exc:
                raise CacheError(f"the cache index failed: {exc}") from exc
            return tuple(row) if row is not None else None
        sql, order = self._compile(statement)
        with self._lock:
            try:
                cursor = self._raw.cursor()
                try:
                    cursor.execute(sql, [params[name] for name in order])
                    found = cursor.fetchone()
                finally:
                    cursor.close()
            except sqlite3.Error as exc:
                raise CacheError(f"the cache index failed: {exc}") from exc
        return tuple(found) if found is not None else None

    def _compile(self, statement: sa.Select[Any]) -> tuple[str, tuple[str, ...]]:
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            done = statement.compile(dialect=self._reads.dialect)
            compiled = (done.string, tuple(done.positiontup or ()))
            self._compiled[id(statement)] = compiled
        return compiled

    def close(self) -> None:
        if self._raw is not None:
            with self._lock:
                self._raw.close()  # back to the pool, which the engine then disposes
                self._raw = None


def _insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``on_conflict_do_…``, whose shape both dialects share."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@functools.cache
def _upsert_entry(dialect: str) -> sa.Executable:
    """An entry's upsert (bound: ``key``, ``kind``, ``size``, ``now``), built once: building
    its ``excluded`` columns cost more CPU than the statement's execution."""
    insert = _insert(dialect, entries).values(
        key=sa.bindparam("key"),
        kind=sa.bindparam("kind"),
        size=sa.bindparam("size"),
        last_access=sa.bindparam("now"),
    )
    return insert.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={"size": insert.excluded.size, "last_access": insert.excluded.last_access},
    )


def _leads_nowhere(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """A shortcut's column naming neither a stored article nor an alias."""
    stored = sa.select(entries.c.key).where(entries.c.kind == "article")
    return sa.and_(column.not_in(stored), column.not_in(sa.select(aliases.c.alias)))


def _forget_shortcuts(conn: Connection, articles: list[str]) -> None:
    """Delete the aliases and page validators that lead to ``articles`` (being removed)."""
    for start in range(0, len(articles), _BATCH):
        part = articles[start : start + _BATCH]
        conn.execute(aliases.delete().where(aliases.c.target.in_(part)))
        conn.execute(pages.delete().where(pages.c.article.in_(part)))


def _is_pinned(conn: Connection, kind: str, key: str) -> bool:
    if kind != "article":
        return False
    return (
        conn.execute(sa.select(sa.literal(1)).where(pins.c.key == key).limit(1)).first() is not None
    )


def _article_size(conn: Connection, key: str) -> int:
    size = conn.execute(
        sa.select(entries.c.size).where(entries.c.kind == "article", entries.c.key == key)
    ).scalar()
    return int(size or 0)


def _add_totals(conn: Connection, delta_all: int, delta_unpinned: int) -> None:
    """PostgreSQL: move the totals by the transaction's change, 'all' first (one order for
    every writer, so two cannot deadlock on the two rows)."""
    for name, delta in (("all", delta_all), ("unpinned", delta_unpinned)):
        if delta:
            conn.execute(
                totals.update().where(totals.c.name == name).values(bytes=totals.c.bytes + delta)
            )


def _lock_keys(conn: Connection, keys: list[str]) -> None:
    """PostgreSQL: hold each key's advisory lock until the transaction ends, in ascending
    order of lock id whoever asks, so writers of overlapping keys queue instead of
    deadlocking."""
    ids = sorted({_lock_id(key) for key in keys})
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(id) FROM unnest(CAST(:ids AS bigint[])) AS id"),
        {"ids": ids},
    )


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory lock id for a key (a namespace in the high half)."""
    return (zlib.crc32(b"tts audio index") << 32 | zlib.crc32(key.encode())) - (1 << 63)
