"""Content-addressed audio cache in a blob store, with an SQL index for LRU eviction.

The audio lives in a :class:`~tts_service.storage.BlobStore` chosen by ``TTS_STORAGE_URL``
(default ``file://<TTS_CACHE_DIR>``: the directory itself, as it always was; or
``s3://bucket/prefix``). Keys, which are the files' paths under the directory::

    chunks/ab/<key>.mp3           one engine answer, house-format frames only
    articles/ab/<key>.mp3         the assembled article (ID3 tag + frames)
    articles/ab/<key>.vtt         its sentence timings
    articles/ab/<key>.json        its metadata; written last, so it marks the entry complete

and, in ``TTS_CACHE_DIR`` whatever the store::

    index.sqlite3                 the index, unless TTS_DATABASE_URL names another database
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

The index (sizes, last access, pins, shortcuts, byte totals) is
:class:`~tts_service.cache_index.AudioIndex`: ``index.sqlite3`` here by default, or the
PostgreSQL database of ``TTS_DATABASE_URL``, which several machines' processes share.

Failures of the disk or of the database (a full disk: ``ENOSPC``, "database or disk is
full"; PostgreSQL gone) surface as :class:`~tts_service.errors.CacheError`, never as
``OSError`` or a driver's error. A write that fails leaves the index and the files
agreeing: what could not be indexed is removed again. Refreshing an entry's last access
is best effort.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_service.cache_index import AudioIndex
from tts_service.cache_index.index import SHORTCUTS_MAX
from tts_service.errors import CacheError
from tts_service.storage.file import HOST as _HOST
from tts_service.storage.file import FileBlobStore, writer_name
from tts_service.storage.ports import BlobStore

__all__ = ["AudioCache", "CachedArticle"]

logger = logging.getLogger(__name__)

# A file in tmp/ older than this is no write in progress, whoever made it: a write takes
# seconds at most, even on a slow disk.
_LEASE_S = 3600.0


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
        root: ``TTS_CACHE_DIR``: the temporary files, the index unless ``database_url``
            names another database, and the audio itself unless ``store`` is given.
        store: where the audio objects live; ``None`` = the file store over ``root``.
        database_url: the index's database (``sqlite:///…`` or ``postgresql://…``);
            ``None`` = ``index.sqlite3`` in ``root``.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        max_shortcuts: int = SHORTCUTS_MAX,
        store: BlobStore | None = None,
        database_url: str | None = None,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        try:
            (self.root / "tmp").mkdir(parents=True, exist_ok=True)
            self.store: BlobStore = store if store is not None else FileBlobStore(self.root)
        except OSError as exc:
            raise CacheError(f"cannot open the audio cache at {self.root}: {exc}") from exc
        url = database_url or f"sqlite:///{(self.root / 'index.sqlite3').as_posix()}"
        self.index = AudioIndex.open(url, max_shortcuts=max_shortcuts)
        self._clear_dead_tmp()
        self._reconcile()
        try:
            self.index.prune_shortcuts()
        except CacheError as exc:
            logger.warning("cache shortcuts not pruned: %s", exc)

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
            if not self.index.has("article", key):
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
        self.index.pin(key, owner)

    def unpin(self, key: str, owner: str) -> bool:
        """Release ``owner``'s pin; True when no other owner still pins ``key``."""
        return self.index.unpin(key, owner)

    def remove(self, kind: str, key: str) -> None:
        """Delete an entry's files and index row now (an editor deleted its article).

        ``kind`` is ``"article"`` or ``"chunk"``; aliases that led to it then lead nowhere,
        and the next request for it reads it afresh.
        """
        self.index.remove(kind, key)
        self._remove_files(kind, key)

    # -- aliases: a request's key → the article that answers it ------------------------

    def set_alias(self, alias: str, target: str, *, ttl: float | None = None) -> None:
        """Point ``alias`` at article ``target``, for ``ttl`` seconds or for good."""
        self.index.set_alias(alias, target, ttl=ttl)

    def get_alias(self, alias: str) -> str | None:
        """Return the article an alias points at, unless it has expired."""
        return self.index.get_alias(alias)

    # -- pages read by URL: validators for conditional requests --------------------------

    def get_page(self, url: str, reading: str) -> tuple[str | None, str | None, str] | None:
        """``(etag, last_modified, article id)`` of the last read of a page, if any.

        ``reading`` is the key of how the page is read (selector, engines, voice,
        normaliser, lexicon): the same page read another way is other audio. It is kept
        in the ``selector`` column, whose old rows (a bare selector) simply never match.
        """
        return self.index.get_page(url, reading)

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
        self.index.set_page(url, reading, etag=etag, last_modified=last_modified, article=article)

    # -- bookkeeping -------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        """Bytes of all indexed entries."""
        return self._total("all")

    def _total(self, name: str) -> int:
        """A running total from the index: one row, however many entries."""
        return self.index.total(name)

    def writable(self) -> bool:
        """True when a file can be created in the cache and its index answers (``/readyz``)."""
        probe = self.root / "tmp" / f"probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
        except OSError:
            return False
        finally:
            # Created even when the write fails: a probe a second must not pile up files.
            probe.unlink(missing_ok=True)
        return self.index.reachable()

    def close(self) -> None:
        """Write the pending last-access refreshes, then close the index."""
        self.index.close()

    def _write_atomic(self, blob: str, data: bytes | Iterable[bytes]) -> int:
        """Store ``data`` (bytes, or parts) under ``blob`` atomically; the bytes written.

        The file store names its temporary file after its writer (host and pid), so another
        process opening the cache can tell a crash's leftovers from work in progress.
        """
        return self.store.put_atomic(blob, data)

    def _record(self, kind: str, key: str, size: int) -> None:
        self.index.record(kind, key, size)
        self._evict()

    def _touch(self, kind: str, key: str) -> None:
        self.index.touch(kind, key)

    def _flush_touches(self) -> None:
        self.index.flush()

    def _evict(self) -> None:
        """Delete least recently used entries until the cache fits ``max_bytes``."""
        for kind, key in self.index.evict(self.max_bytes):
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
        known = set(self.index.keys())
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
                self.index.remove(kind, key)
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
