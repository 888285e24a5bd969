"""Assemble chunk audio into one article: title tag, pauses, frames, and frame-counted cues.

Chunks arrive as house-format frames, so assembly is concatenation: no decoding, no
re-encoding. Timings are not estimated: every cue boundary is the number of frames before
it times 24 ms (576 samples at 24 kHz).
"""

from __future__ import annotations

from tts_service.audio.encode import silence
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.audio.id3 import id3_title_tag
from tts_service.audio.mp3 import parse_frames
from tts_service.audio.phrases import split_phrases
from tts_service.audio.vtt import Cue, Phrase
from tts_service.planning import ArticlePlan, PlannedChunk

__all__ = ["Assembler"]


class Assembler:
    """Turns an article plan's chunk audio, in order, into the bytes of one MP3.

    ``header()`` first, then ``add()`` per chunk in plan order; each returns the bytes to
    append, so the same object drives a live stream and the file written at the end.
    """

    def __init__(self, plan: ArticlePlan) -> None:
        self.plan = plan
        self._frames = 0
        self._previous: PlannedChunk | None = None
        self._spans: dict[int, list[int]] = {}
        # Per sentence: (first frame, spoken text) of each chunk read, for phrase cues.
        self._chunks: dict[int, list[tuple[int, str]]] = {}

    def header(self) -> bytes:
        """The ID3 tag that opens the file: the article's title, or its first sentence."""
        sentences = self.plan.document.sentences
        title = self.plan.title or (sentences[0].text[:120] if sentences else "")
        return id3_title_tag(title) if title else b""

    def pause_ms(self, chunk: PlannedChunk) -> int:
        """The silence :meth:`add` puts before ``chunk``: none within a sentence, a
        sentence's or a paragraph's pause between them."""
        previous = self._previous
        if previous is None or previous.chunk.sentence == chunk.chunk.sentence:
            return 0
        pauses = self.plan.pauses
        if previous.chunk.paragraph != chunk.chunk.paragraph:
            return pauses.paragraph_ms
        return pauses.sentence_ms

    def _pause(self, chunk: PlannedChunk) -> bytes:
        return silence(self.pause_ms(chunk) / 1000)

    def add(self, chunk: PlannedChunk, frames: bytes) -> bytes:
        """Return the pause before ``chunk`` and its frames; record its sentence's span."""
        pause = self._pause(chunk)
        self._frames += len(parse_frames(pause)) if pause else 0
        start = self._frames
        self._frames += len(parse_frames(frames))
        span = self._spans.setdefault(chunk.chunk.sentence, [start, self._frames])
        span[1] = self._frames
        self._chunks.setdefault(chunk.chunk.sentence, []).append((start, chunk.chunk.text))
        self._previous = chunk
        return pause + frames

    @property
    def duration(self) -> float:
        """Seconds of audio added so far."""
        return self._frames * HOUSE_FORMAT.frame_seconds

    def cues(self) -> list[Cue]:
        """One cue per sentence that was read, with the sentence as written and, when it
        was read in several chunks, where each chunk's written text starts."""
        step = HOUSE_FORMAT.frame_seconds
        by_index = {s.index: s for s in self.plan.document.sentences}
        cues = []
        for index, (start, end) in sorted(self._spans.items()):
            sentence = by_index[index]
            chunks = self._chunks[index]
            pieces = split_phrases(sentence, [text for _, text in chunks])
            phrases: tuple[Phrase, ...] = ()
            if pieces is not None and len(pieces) > 1:
                phrases = tuple(
                    Phrase(first * step, piece)
                    for (first, _), piece in zip(chunks, pieces, strict=True)
                )
            cues.append(Cue(index, start * step, end * step, sentence.text, phrases))
        return cues
