"""What the service needs from the place audio bytes live: the :class:`BlobStore` port.

Implementations sit side by side in this package (``file.py``: today's cache directory;
``s3.py``: an S3-compatible bucket) and pass one contract suite
(``tests/storage/test_blobstore.py``). They are picked from ``TTS_STORAGE_URL`` by
:func:`tts_service.storage.open_blob_store`, once, at start-up.

Keys are relative POSIX paths, the cache's own layout: ``chunks/ab/<hash>.mp3``,
``articles/ab/<hash>.vtt``. Objects are content-addressed and never modified, only
created or deleted, so a duplicate write by another process is harmless.

Failures of the backend (disk full, bucket unreachable) surface as
:class:`~tts_service.errors.CacheError`; a missing object is ``None``, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from tts_service.errors import CacheError

__all__ = ["BlobRange", "BlobStore", "Readable", "check_key"]

_KEY = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")


def check_key(key: str) -> str:
    """``key`` if it is a safe relative path; :class:`CacheError` otherwise.

    Only letters, digits, ``.``, ``_``, ``-`` and ``/`` between non-empty parts, and no
    ``.`` or ``..`` part: a key can never leave the store's root (``../index.sqlite3``)
    nor name a directory.
    """
    if not _KEY.fullmatch(key) or any(part in (".", "..") for part in key.split("/")):
        raise CacheError(f"invalid storage key {key!r}")
    return key


class Readable(Protocol):
    """What a range reads from: an open file, or an HTTP response body."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes."""
        ...

    def close(self) -> None:
        """Release the file or connection."""
        ...


class BlobRange:
    """Part of an object, read lazily: ``length`` bytes from ``offset`` of ``total`` bytes.

    A file-like reader bounded to the range, so an HTTP responder can stream an hour of
    audio in pieces without holding it in memory. Close it (or use ``with``).
    """

    def __init__(self, reader: Readable, *, offset: int, length: int, total: int) -> None:
        self.offset = offset
        self.length = length
        self.total = total
        self._reader = reader
        self._left = length

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the range (all that is left when ``size`` < 0)."""
        want = self._left if size < 0 else min(size, self._left)
        if want <= 0:
            return b""
        try:
            data = self._reader.read(want)
        except OSError as exc:
            raise CacheError(f"cannot read stored audio: {exc}") from exc
        self._left -= len(data)
        return bytes(data)

    def __iter__(self) -> Iterator[bytes]:
        """The range in pieces of at most 64 KiB."""
        while piece := self.read(64 * 1024):
            yield piece

    def close(self) -> None:
        """Release the file or the HTTP connection."""
        self._reader.close()

    def __enter__(self) -> BlobRange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@runtime_checkable
class BlobStore(Protocol):
    """Immutable, content-addressed objects by key.

    ``url`` is the ``TTS_STORAGE_URL`` the store was opened from (for logs and
    ``/health``), never used to reach it again.
    """

    url: str

    def get(self, key: str) -> bytes | None:
        """The whole object, or ``None`` when there is none under ``key``."""
        ...

    def put_atomic(self, key: str, data: bytes | Iterable[bytes]) -> int:
        """Store ``data`` (bytes, or parts) under ``key``; the bytes stored.

        Readers see the old object or all of the new one. A failed put (the parts' iterator
        raising included) leaves nothing behind: no partial object, no temporary file under
        a servable name.
        """
        ...

    def open_range(self, key: str, offset: int = 0, length: int | None = None) -> BlobRange | None:
        """``length`` bytes from ``offset`` (to the end when ``None``); ``None`` if missing.

        The range is clipped to the object: an ``offset`` at or past the end gives an empty
        range whose ``total`` says the object's size (an HTTP 416 needs it).
        """
        ...

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or ``None`` when it is missing."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; nothing happens when it is already gone."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, in lexicographic order (reconcile, migration)."""
        ...

    def public_url(self, key: str, *, expires_s: int) -> str:
        """A URL something other than this process can fetch the object from.

        The configured public base (a CDN, a public bucket, an nginx location) plus the
        key; else the store's own: a presigned URL valid ``expires_s`` for S3, a
        ``file://`` URL for the file store.
        """
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
