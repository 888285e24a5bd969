"""Serve a stored file the way RFC 9110 says: HEAD, validators, single and suffix ranges.

One responder for every finished MP3 and VTT, so the audio routes cannot disagree on
HTTP semantics (they did: three copies of the ETag check, and Starlette's own Range
parsing answered ``Range: bytes=abc`` with a plain-text 400 where the RFC says an invalid
Range is ignored). What it does, by section of RFC 9110:

* 13.1.2 ``If-None-Match`` (weak comparison, lists, ``*``) → 304 for GET and HEAD;
  13.1.3 ``If-Modified-Since`` only when there is no ``If-None-Match``.
* 14.2 a ``Range`` this server does not understand (other unit, bad syntax, several
  ranges) is ignored: 200 with the whole file.
* 14.1.2 ``bytes=a-b``, ``bytes=a-`` and the suffix ``bytes=-n`` → 206 with
  ``Content-Range``; a last byte past the end is cut to the end.
* 15.5.17 a first byte at or past the end → 416 with ``Content-Range: bytes */length``.
* 13.1.5 ``If-Range`` that does not match the current ETag (strongly) → the whole file.
* 9.3.2 HEAD: the same headers as GET, no body.

The body is read from disk in pieces, so memory does not grow with the file's size.

:class:`AudioResponder` answers for a stored object whichever store holds it
(docs/cluster.md, section 1.2): the local file as above for ``file://``; an
``X-Accel-Redirect`` to an internal nginx location when ``TTS_AUDIO_ACCEL_REDIRECT`` is set
(nginx then sends the bytes, ranges included); a redirect to the store's public or
presigned URL when ``TTS_AUDIO_PUBLIC_URL`` or ``TTS_AUDIO_REDIRECT`` is set; otherwise the
object streamed from the store through this process, with the same Range semantics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from typing import Literal

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from tts_service.api.errors import bilingual_detail
from tts_service.settings import Settings
from tts_service.storage.file import FileBlobStore
from tts_service.storage.ports import BlobRange, BlobStore

__all__ = ["AudioResponder", "byte_range", "file_response", "not_modified"]

# How a complete object reaches the listener (AudioResponder.mode).
Delivery = Literal["file", "accel", "redirect", "stream"]

_PIECE = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _etags(header: str) -> list[str]:
    """The entity tags in an ``If-None-Match`` / ``If-Range`` list, weakness dropped."""
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(request: Request, etag: str, mtime: float | None = None) -> bool:
    """Whether the client's copy is current (a 304 for GET and HEAD)."""
    if request.method not in ("GET", "HEAD"):
        return False
    header = request.headers.get("if-none-match")
    if header is not None:
        tags = _etags(header)
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since is not None and mtime is not None:
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False  # an unreadable date is ignored (RFC 9110 13.1.3)
    return False


def byte_range(header: str | None, length: int) -> tuple[int, int] | None | str:
    """The ``(first, last)`` bytes to send, ``None`` for the whole file, or ``"416"``.

    Only one ``bytes`` range is honoured; anything else is ignored as the RFC allows.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        # Suffix: the last n bytes ("bytes=-500"); n = 0 cannot be satisfied.
        count = int(last)
        if count == 0:
            return "416"
        return (max(0, length - count), length - 1) if length else "416"
    start = int(first)
    end = int(last) if last else length - 1
    if last and end < start:
        return None  # syntactically invalid: ignored
    if start >= length:
        return "416"
    return start, min(end, length - 1)


def _read(path: Path, start: int, count: int) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(start)
        while count > 0:
            piece = file.read(min(_PIECE, count))
            if not piece:
                return
            count -= len(piece)
            yield piece


def file_response(
    request: Request,
    path: Path,
    *,
    media_type: str,
    etag: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``path`` as a 200, 206, 304 or 416 answer to ``request`` (GET or HEAD)."""
    stat = os.stat(path)
    return _ranged(
        request,
        stat.st_size,
        lambda start, count: _read(path, start, count),
        media_type=media_type,
        etag=etag,
        mtime=stat.st_mtime,
        headers=headers,
    )


def _ranged(
    request: Request,
    length: int,
    body: Callable[[int, int], Iterator[bytes]],
    *,
    media_type: str,
    etag: str,
    mtime: float | None,
    headers: Mapping[str, str] | None,
) -> Response:
    """A 200, 206, 304 or 416 answer for ``length`` bytes that ``body(start, count)`` reads."""
    common = {**(headers or {}), "ETag": etag, "Accept-Ranges": "bytes"}
    if mtime is not None:
        common["Last-Modified"] = formatdate(mtime, usegmt=True)
    if not_modified(request, etag, mtime):
        return Response(status_code=304, headers=common)
    wanted = byte_range(request.headers.get("range"), length)
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range is not None and if_range.strip() != etag:
        wanted = None  # the client's partial copy is of another version: send it all
    if wanted == "416":
        return JSONResponse(
            {"detail": bilingual_detail(416, HTTPStatus(416).phrase)},
            status_code=416,
            headers={**common, "Content-Range": f"bytes */{length}"},
        )
    status, start, count = 200, 0, length
    if isinstance(wanted, tuple):
        first, last = wanted
        status, start, count = 206, first, last - first + 1
        common["Content-Range"] = f"bytes {first}-{last}/{length}"
    common["Content-Length"] = str(count)
    if request.method == "HEAD":
        return Response(status_code=status, headers=common, media_type=media_type)
    return StreamingResponse(
        body(start, count), status_code=status, headers=common, media_type=media_type
    )


def _pieces(blob: BlobRange) -> Iterator[bytes]:
    """A range's bytes in pieces, closing it at the end (or when the listener leaves)."""
    with blob:
        yield from blob


class AudioResponder:
    """Answers GET and HEAD for a complete stored MP3 or VTT, by the deployment's means.

    Args:
        store: where the audio objects are (``AudioCache.store``).
        accel_prefix: ``TTS_AUDIO_ACCEL_REDIRECT``: the internal nginx location the keys are
            under (``/_audio/`` → ``X-Accel-Redirect: /_audio/articles/ab/<key>.mp3``).
        redirect: send listeners to :meth:`BlobStore.public_url` (``TTS_AUDIO_PUBLIC_URL``
            set, or ``TTS_AUDIO_REDIRECT`` for presigned URLs of a private bucket).
        url_ttl_s: how long a presigned URL stays valid (``TTS_AUDIO_URL_TTL_S``).
    """

    def __init__(
        self,
        store: BlobStore,
        *,
        accel_prefix: str | None = None,
        redirect: bool = False,
        url_ttl_s: int = 3600,
    ) -> None:
        self.store = store
        self.accel_prefix = accel_prefix
        self.url_ttl_s = url_ttl_s
        self.mode: Delivery
        # A file store has no URL of its own to redirect to (file:// is no use to a
        # browser): without a public base it serves its files.
        local_only = isinstance(store, FileBlobStore) and store.public_base_url is None
        if accel_prefix is not None:
            self.mode = "accel"
        elif redirect and not local_only:
            self.mode = "redirect"
        elif isinstance(store, FileBlobStore):
            self.mode = "file"
        else:
            self.mode = "stream"

    @classmethod
    def from_settings(cls, settings: Settings, store: BlobStore) -> AudioResponder:
        """The responder the settings ask for, over ``store``."""
        return cls(
            store,
            accel_prefix=settings.audio_accel_redirect,
            redirect=settings.audio_redirect or settings.audio_public_url is not None,
            url_ttl_s=settings.audio_url_ttl_s,
        )

    def respond(
        self,
        request: Request,
        key: str,
        *,
        size: int,
        media_type: str,
        etag: str,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The object ``key`` (``size`` bytes) as an answer to ``request``.

        Blocking (it may ask the store): call it from a worker thread.

        ``headers`` (``Cache-Control``, ``X-TTS-*``) go on every kind of answer. A 304 is
        answered here whatever the mode: revalidating costs the listener no redirect.
        """
        if self.mode == "file" and isinstance(self.store, FileBlobStore):
            try:
                return file_response(
                    request,
                    self.store.root / key,
                    media_type=media_type,
                    etag=etag,
                    headers=headers,
                )
            except FileNotFoundError:
                raise _gone() from None
        common = {**(headers or {}), "ETag": etag}
        if not_modified(request, etag):
            return Response(status_code=304, headers=common)
        if self.mode == "accel":
            # nginx answers Range, HEAD and If-Range from the file (or the proxied bucket);
            # it keeps this answer's Content-Type and Cache-Control, and its ETag with the
            # location of docs/cluster.md, section 3 (add_header ETag $upstream_http_etag).
            common["X-Accel-Redirect"] = f"{self.accel_prefix}{key}"
            return Response(status_code=200, headers=common, media_type=media_type)
        if self.mode == "redirect":
            target = self.store.public_url(key, expires_s=self.url_ttl_s)
            # The redirect itself is cached no longer than the URL it names stays valid (a
            # presigned one expires), and only by this listener's browser; a registered
            # article's id, whose audio changes when it is edited, keeps "no-cache".
            if "no-cache" not in common.get("Cache-Control", ""):
                common["Cache-Control"] = f"private, max-age={self.url_ttl_s // 2}"
            return RedirectResponse(target, status_code=307, headers=common)
        return _ranged(
            request,
            size,
            lambda start, count: self._stream(key, start, count),
            media_type=media_type,
            etag=etag,
            mtime=None,
            headers=headers,
        )

    def _stream(self, key: str, start: int, count: int) -> Iterator[bytes]:
        # Opened now, not when the first piece is asked for: a missing object is a 404,
        # not a 200 that breaks off.
        blob = self.store.open_range(key, start, count)
        if blob is None:
            raise _gone()
        return _pieces(blob)


def _gone() -> HTTPException:
    """The object went between the lookup and the answer (evicted, removed)."""
    return HTTPException(404, "Không tìm thấy bài đọc (no audio with this id).")
