"""Content-addressed audio cache on disk, with an SQL index for LRU eviction.

Layout under ``TTS_CACHE_DIR``::

    index.sqlite3                 the index (unless TTS_DATABASE_URL names another database)
    chunks/ab/<key>.mp3           one engine answer, house-format frames only
    articles/ab/<key>.mp3         the assembled article (ID3 tag + frames)
    articles/ab/<key>.vtt         its sentence timings
    articles/ab/<key>.json        its metadata; written last, so it marks the entry complete
    tmp/                          files being written, named after the process writing them

Articles registered by editors are *pinned* (``pin(key, owner)``): LRU eviction never
removes them, and ``TTS_CACHE_MAX_BYTES`` caps only the unpinned audio listeners' reads
left behind, so pre-generated audio stays ready however much else is read.

Every write goes to ``tmp/`` first, is flushed to disk and then renamed into place, so a
crash leaves at worst an orphan in ``tmp/`` — never a partial file under a servable name.
An article is servable only when its ``.json`` exists.

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

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_service.cache_index import AudioIndex
from tts_service.cache_index.index import SHORTCUTS_MAX
from tts_service.errors import CacheError

__all__ = ["AudioCache", "CachedArticle"]

logger = logging.getLogger(__name__)

# A file in tmp/ older than this is no write in progress, whoever made it: a write takes
# seconds at most, even on a slow disk.
_LEASE_S = 3600.0
# This host, in temporary files' names: a pid is only checked on the host it belongs to
# (a cache on a shared volume may be written from several machines or containers).
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class CachedArticle:
    """A complete article in the cache: its files and metadata."""

    key: str
    mp3_path: Path
    vtt_path: Path
    meta: dict[str, Any]


class AudioCache:
    """Stores chunk and article audio by key, evicting least recently used past a cap."""

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        max_shortcuts: int = SHORTCUTS_MAX,
        database_url: str | None = None,
    ) -> None:
        """Open the cache under ``root``; its index in ``database_url`` (``sqlite:///…``
        or ``postgresql://…``), by default ``index.sqlite3`` in ``root``."""
        self.root = Path(root)
        self.max_bytes = max_bytes
        try:
            for sub in ("chunks", "articles", "tmp"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
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

    # -- paths -------------------------------------------------------------------------

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        if not key.isalnum():
            # Keys are hex digests; anything else is a caller bug or a traversal attempt.
            raise CacheError(f"invalid cache key {key!r}")
        return self.root / kind / key[:2] / f"{key}{suffix}"

    # -- chunks ------------------------------------------------------------------------

    def get_chunk(self, key: str) -> bytes | None:
        """Return a chunk's audio, or ``None`` when it is not cached."""
        path = self._path("chunks", key, ".mp3")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CacheError(f"cannot read {path}: {exc}") from exc
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
        meta_path = self._path("articles", key, ".json")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("unreadable cache metadata %s: %s", meta_path, exc)
            return None
        mp3 = self._path("articles", key, ".mp3")
        vtt = self._path("articles", key, ".vtt")
        if not (mp3.exists() and vtt.exists()):
            return None
        if touch:
            self._touch("article", key)
        return CachedArticle(key, mp3, vtt, meta)

    def put_article(
        self, key: str, *, mp3: bytes | Iterable[bytes], vtt: str, meta: dict[str, Any]
    ) -> None:
        """Store an article; the metadata file is renamed into place last.

        ``mp3`` may come in parts (an article written from its stored chunks, never whole
        in memory). When any file or the index entry cannot be written (a full disk), the
        files already written are removed again and :class:`CacheError` is raised.
        """
        vtt_bytes = vtt.encode("utf-8")
        meta_bytes = json.dumps(meta, ensure_ascii=False).encode("utf-8")
        # While the files are renamed one by one, another process opening the cache must
        # not take them for a crash's leftovers.
        marker = self.root / "tmp" / f"{self._path('articles', key, '').stem}.{_owner()}.writing"
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
                # Not indexed, so not kept: eviction would never see these files.
                self._remove_files("article", key)
            raise
        finally:
            marker.unlink(missing_ok=True)

    def has_chunk(self, key: str) -> bool:
        """Whether a chunk's audio is cached (without refreshing its last access)."""
        return self._path("chunks", key, ".mp3").exists()

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

    def _write_atomic(self, path: Path, data: bytes | Iterable[bytes]) -> int:
        """Write ``data`` (bytes, or parts) to ``path`` atomically; the bytes written.

        The temporary file is named after its writer (host and pid), so another process
        opening the cache can tell a crash's leftovers from work in progress.
        """
        tmp = self.root / "tmp" / f"{path.name}.{_owner()}.{uuid.uuid4().hex}.part"
        written = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                for part in (data,) if isinstance(data, bytes) else data:
                    fh.write(part)
                    written += len(part)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise CacheError(f"cannot write {path.name} to the cache: {exc}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)  # the parts failed (a chunk gone): nothing is left
            raise
        return written

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
            self._path("chunks", key, ".mp3").unlink(missing_ok=True)
            return
        # The metadata goes first: the article stops being servable before its audio goes.
        for suffix in (".json", ".mp3", ".vtt"):
            self._path("articles", key, suffix).unlink(missing_ok=True)

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
        """Keys of articles a live process is renaming into place (their markers)."""
        return {marker.name.split(".", 1)[0] for marker in (self.root / "tmp").glob("*.writing")}

    def _reconcile(self) -> None:
        """Make the index and the files agree after a crash or a manual clean-up."""
        known = set(self.index.keys())
        for kind, key in known:
            present = (
                self._path("chunks", key, ".mp3").exists()
                if kind == "chunk"
                else self.get_article(key, touch=False) is not None
            )
            if not present:
                self.index.remove(kind, key)
                self._remove_files(kind, key)
        # Files the index does not know (a crash between rename and index write) are
        # indexed if complete, removed if not.
        for path in (self.root / "chunks").glob("*/*.mp3"):
            if ("chunk", path.stem) not in known:
                self._record("chunk", path.stem, path.stat().st_size)
        # Dead markers are gone already (_clear_dead_tmp): these writers are alive.
        writing = self._being_written()
        for path in (self.root / "articles").glob("*/*.*"):
            key = path.stem
            if ("article", key) in known or key in writing:
                continue
            article = self.get_article(key, touch=False)
            if article is None:
                path.unlink(missing_ok=True)
            elif path.suffix == ".json":
                size = sum(p.stat().st_size for p in path.parent.glob(f"{key}.*"))
                self._record("article", key, size)
                known.add(("article", key))


def _owner() -> str:
    """This process, as named in its temporary files: ``<host>-<pid>``."""
    return f"{_HOST}-{os.getpid()}"


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
