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
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tts_service.api.errors import bilingual_detail

__all__ = ["byte_range", "file_response", "not_modified"]

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
    length = stat.st_size
    common = {
        **(headers or {}),
        "ETag": etag,
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "Accept-Ranges": "bytes",
    }
    if not_modified(request, etag, stat.st_mtime):
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
        _read(path, start, count), status_code=status, headers=common, media_type=media_type
    )
