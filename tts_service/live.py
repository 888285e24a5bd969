"""Following an article while it is being made, from its stored chunks.

An article in progress is a :class:`Track`: its opening bytes (the ID3 tag), then, as each
chunk is synthesised and stored, a :class:`Piece` naming the stored chunk and the pause
before it. A listener's stream follows the track: it reads each piece's chunk from the
store when its turn comes and waits for the next. Nothing holds the article's audio in
memory, so a listener costs one chunk at a time, however long the article, and any number
of listeners (joining at the start or half-way, reading fast or slowly) get the same,
complete bytes: the tag, then pause and frames per piece — exactly the file stored at the
end (:func:`assemble` writes it from the same pieces).

Today's track is the in-memory :class:`~tts_service.jobs.Job` of this process; the
interface is what another process would need to follow an article being made elsewhere
(pieces listed in a database, chunks in a shared store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from tts_service.audio.encode import silence
from tts_service.errors import SynthesisUnavailable

__all__ = ["ChunkReader", "Piece", "Track", "assemble", "follow"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Piece:
    """One chunk of an article as stored: the silence before it, then its frames."""

    key: str
    pause_ms: int = 0


#: Reads a stored chunk's house-format frames by key; ``None`` when it is not stored.
ChunkReader = Callable[[str], bytes | None]


class Track(Protocol):
    """An article being made, as its followers see it."""

    @property
    def header(self) -> bytes:
        """The bytes that open the article (its ID3 tag)."""
        ...

    def pieces_from(self, start: int) -> tuple[Sequence[Piece], bool]:
        """Pieces published from index ``start`` on, and whether no more will come."""
        ...

    def changes(self, timeout: float | None) -> AsyncIterator[None]:
        """Yield now and after each change (a piece, the end); stop after ``timeout``
        seconds without one."""
        ...


def _piece_bytes(piece: Piece, read_chunk: ChunkReader) -> bytes:
    frames = read_chunk(piece.key)
    if frames is None:
        raise SynthesisUnavailable(f"chunk {piece.key} of the article is no longer stored")
    return silence(piece.pause_ms / 1000) + frames


async def follow(
    track: Track, read_chunk: ChunkReader, *, timeout: float | None
) -> AsyncIterator[bytes]:
    """The article's bytes from the start, as its chunks are stored, until it ends.

    Chunks are read off the event loop, one at a time as the listener takes them: a slow
    reader holds one chunk, not the article. Ends early when nothing new comes for
    ``timeout`` seconds, or when a chunk cannot be read (logged).
    """
    yield track.header
    sent = 0
    async for _ in track.changes(timeout):
        while True:
            pieces, ended = track.pieces_from(sent)
            for piece in pieces:
                try:
                    data = await asyncio.to_thread(_piece_bytes, piece, read_chunk)
                except SynthesisUnavailable as exc:
                    logger.error("stream ends short: %s", exc)
                    return
                sent += 1
                yield data
            if ended and not pieces:
                return
            if not pieces:
                break


def assemble(header: bytes, pieces: Sequence[Piece], read_chunk: ChunkReader) -> Iterator[bytes]:
    """The whole article from its pieces, a chunk at a time (to store it, or for the CLI).

    Raises :class:`~tts_service.errors.SynthesisUnavailable` for a chunk not stored.
    """
    yield header
    for piece in pieces:
        yield _piece_bytes(piece, read_chunk)
