"""Plan an article's synthesis without synthesising: chunks, cache keys and the article id.

As gTTS's ``_prepare_requests()`` builds requests without sending them, a plan says exactly
which engine requests an article needs and under which keys their audio is cached. The
article key covers every chunk key plus everything the assembly adds (pauses, title tag,
cue texts), so the same article read the same way always has the same id, and an edited
article shares the audio of every sentence whose spoken text did not change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from tts_service.audio.format import HOUSE_FORMAT
from tts_service.engines.base import SpeechEngine
from tts_service.text.chunker import Chunk, chunk_document
from tts_service.text.model import Document

__all__ = [
    "ASSEMBLY_VERSION",
    "ArticlePlan",
    "Pauses",
    "PlannedChunk",
    "chunk_key",
    "digest",
    "plan_article",
]

# Bump when the assembled bytes change for the same chunks (tag layout, pause frames…).
# 2: the VTT marks each chunk's phrase inside its sentence cue (cue timestamps).
ASSEMBLY_VERSION = "2"


def digest(payload: object) -> str:
    """A stable 40-hex-digit key for a JSON-serialisable payload."""
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class Pauses:
    """Silence between sentences and between paragraphs, in milliseconds."""

    sentence_ms: int
    paragraph_ms: int


@dataclass(frozen=True, slots=True)
class PlannedChunk:
    """A chunk and the cache key of its audio for one engine."""

    chunk: Chunk
    key: str


@dataclass(frozen=True, slots=True)
class ArticlePlan:
    """Everything needed to synthesise and assemble one article with one engine."""

    key: str
    engine: str
    voice: str
    title: str | None
    document: Document
    chunks: tuple[PlannedChunk, ...]
    pauses: Pauses

    @property
    def chars(self) -> int:
        """Characters sent to the engine."""
        return sum(len(c.chunk.text) for c in self.chunks)


def chunk_key(engine: SpeechEngine, voice: str, text: str) -> str:
    """The cache key of one engine answer: engine, voice, sound settings, exact text."""
    fmt = HOUSE_FORMAT
    return digest(
        {
            "engine": engine.name,
            "voice": voice,
            "params": dict(engine.sound_params),
            "format": [fmt.sample_rate, fmt.channels, fmt.bitrate_kbps],
            "text": text,
        }
    )


def plan_article(
    document: Document,
    *,
    engine: SpeechEngine,
    title: str | None,
    pauses: Pauses,
    limit: int,
    voice: str | None = None,
    chunks: Sequence[Chunk] | None = None,
) -> ArticlePlan:
    """Chunk ``document`` at ``limit`` characters and key every chunk for ``engine``.

    ``chunks`` reuses an existing chunking, so a fallback engine reads exactly the chunks
    the primary engine would have read.
    """
    voice = voice or engine.voice
    if chunks is None:
        chunks = chunk_document(document, limit)
    planned = tuple(PlannedChunk(c, chunk_key(engine, voice, c.text)) for c in chunks)
    key = digest(
        {
            "v": ASSEMBLY_VERSION,
            "chunks": [[p.key, p.chunk.sentence, p.chunk.paragraph] for p in planned],
            "cues": [s.text for s in document.sentences],
            "pauses": [pauses.sentence_ms, pauses.paragraph_ms],
            "title": title,
        }
    )
    return ArticlePlan(key, engine.name, voice, title, document, planned, pauses)
