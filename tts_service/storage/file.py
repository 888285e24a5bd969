"""The file store: objects as files under one directory, today's ``audio_cache/`` layout.

``file:///srv/tts/audio_cache`` (or the default, ``file://<TTS_CACHE_DIR>``) keeps
``chunks/ab/<hash>.mp3`` as the file ``<dir>/chunks/ab/<hash>.mp3``: an existing cache
directory is a valid store, and nginx can serve it as it is (``X-Accel-Redirect``).

A write goes to ``<dir>/tmp/`` first, is flushed to disk and renamed into place, so a
crash leaves at worst an orphan in ``tmp/``, never a partial file under a servable name
(the rename is atomic within one file system, which ``tmp/`` shares with the objects).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from tts_service.errors import CacheError
from tts_service.storage.ports import BlobRange, check_key

__all__ = ["HOST", "FileBlobStore", "writer_name"]

logger = logging.getLogger(__name__)

# Files being written; never a key's first part (listing skips it).
_TMP = "tmp"
# This host, in temporary files' names: a pid is only checked on the host it belongs to
# (a directory on a shared volume may be written from several machines or containers).
HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def writer_name() -> str:
    """This process, as named in its temporary files: ``<host>-<pid>``."""
    return f"{HOST}-{os.getpid()}"


class FileBlobStore:
    """A :class:`~tts_service.storage.ports.BlobStore` over a local directory.

    Args:
        root: the directory; created if missing.
        public_base_url: where something else serves ``root`` over HTTP (nginx, a CDN);
            :meth:`public_url` then answers ``<base>/<key>`` instead of a ``file://`` URL.
    """

    def __init__(self, root: Path, *, public_base_url: str | None = None) -> None:
        self.root = Path(root).absolute()
        self.url = self.root.as_uri()
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        try:
            (self.root / _TMP).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot open the audio store at {self.root}: {exc}") from exc

    def _path(self, key: str) -> Path:
        check_key(key)
        if key.split("/", 1)[0] == _TMP:
            raise CacheError(f"invalid storage key {key!r}: tmp/ holds files being written")
        return self.root / key

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise CacheError(f"cannot read {key} from the audio store: {exc}") from exc

    def put_atomic(self, key: str, data: bytes | Iterable[bytes]) -> int:
        path = self._path(key)
        # Named after its writer, so a process opening the directory can tell a crash's
        # leftovers from a write in progress (tts_service/cache.py, _clear_dead_tmp).
        tmp = self.root / _TMP / f"{path.name}.{writer_name()}.{uuid.uuid4().hex}.part"
        written = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                for part in (data,) if isinstance(data, bytes | bytearray) else data:
                    fh.write(part)
                    written += len(part)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise CacheError(f"cannot write {key} to the audio store: {exc}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)  # the parts failed (a chunk gone): nothing is left
            raise
        return written

    def open_range(self, key: str, offset: int = 0, length: int | None = None) -> BlobRange | None:
        if offset < 0 or (length is not None and length < 0):
            raise ValueError(f"bad range: offset {offset}, length {length}")
        path = self._path(key)
        try:
            fh = open(path, "rb")  # noqa: SIM115 - handed to the BlobRange, which closes it
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise CacheError(f"cannot read {key} from the audio store: {exc}") from exc
        try:
            total = os.fstat(fh.fileno()).st_size
            start = min(offset, total)
            fh.seek(start)
        except OSError as exc:
            fh.close()
            raise CacheError(f"cannot read {key} from the audio store: {exc}") from exc
        left = total - start
        return BlobRange(
            fh, offset=start, length=left if length is None else min(length, left), total=total
        )

    def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            return path.stat().st_size if path.is_file() else None
        except OSError as exc:
            raise CacheError(f"cannot read {key} from the audio store: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except IsADirectoryError:
            return
        except OSError as exc:
            raise CacheError(f"cannot delete {key} from the audio store: {exc}") from exc

    def list(self, prefix: str = "") -> Iterator[str]:
        keys: list[str] = []
        # Walk only the directory the prefix names ("chunks/ab/x" → chunks/ab/).
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        try:
            for directory, subdirs, files in os.walk(start):
                rel = Path(directory).relative_to(self.root).as_posix()
                if rel == ".":
                    subdirs[:] = [d for d in subdirs if d != _TMP]
                    rel = ""
                else:
                    rel += "/"
                keys.extend(rel + name for name in files if (rel + name).startswith(prefix))
        except OSError as exc:
            raise CacheError(f"cannot list the audio store at {self.root}: {exc}") from exc
        return iter(sorted(keys))

    def public_url(self, key: str, *, expires_s: int) -> str:
        # expires_s: a file URL or a public base does not expire.
        path = self._path(key)
        if self.public_base_url is not None:
            return f"{self.public_base_url}/{key}"
        return path.as_uri()

    def clear_tmp(self) -> int:
        """Remove files a crashed write left in ``tmp/`` (call at start-up); how many."""
        removed = 0
        for leftover in (self.root / _TMP).iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        if removed:
            logger.info("removed %d unfinished writes from %s", removed, self.root / _TMP)
        return removed

    def close(self) -> None:
        """Nothing to release: files are opened per call."""
