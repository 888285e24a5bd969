"""Split a normalised document into the chunks one engine request can take.

Boundaries are tried from the most natural to the least: a sentence never shares a chunk
with another (each sentence's timing is measured from its own audio frames), then clauses
(after ``, ; :``), then words. A unit (one word, or the whole spoken form of one number,
date or abbreviation, e.g. "ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt")
is only ever cut when it alone is longer than the limit.

Like gTTS's tokenizer cases, each boundary is a tiny function returning one compiled regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from tts_service.text.model import Document, Sentence

__all__ = ["Chunk", "chunk_document", "chunk_sentence"]

# A clause boundary this far into the limit is preferred to a fuller chunk cut between
# words: "…, Sở Nội vụ," | "và Lãnh đạo…" sounds better than a cut mid-phrase, and packing
# stays close to the limit.
_CLAUSE_MIN_FILL = 0.6


@dataclass(frozen=True, slots=True)
class Chunk:
    """The text of one engine request and the sentence and paragraph it belongs to."""

    index: int
    text: str
    sentence: int
    paragraph: int


@cache
def clause_end() -> re.Pattern[str]:
    """A unit that closes a clause: ends with ``,`` ``;`` ``:`` or a dash.

    Won't cut numbers: "12,5" is already one unit, "mười hai phẩy năm".
    """
    return re.compile(r"[,;:\u2013\u2014]$")


@cache
def word_space() -> re.Pattern[str]:
    """Spaces inside an overlong unit; won't cut a syllable."""
    return re.compile(r"\s+")


def _split_long_unit(unit: str, limit: int) -> Iterator[str]:
    """Cut one unit longer than ``limit``: between its words, else every ``limit`` chars.

    Only an unbroken run of more than ``limit`` characters (a 5,000-character "word") is cut
    inside itself; there is no better place for it.
    """
    current = ""
    for word in word_space().split(unit):
        while len(word) > limit:
            if current:
                yield current
                current = ""
            yield word[:limit]
            word = word[limit:]
        if not word:
            continue
        if current and len(current) + 1 + len(word) > limit:
            yield current
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        yield current


def _pieces(units: Iterable[str], limit: int) -> Iterator[tuple[str, bool]]:
    """Yield ``(piece, ends_clause)`` with every piece at most ``limit`` characters."""
    pattern = clause_end()
    for unit in units:
        if len(unit) <= limit:
            yield unit, bool(pattern.search(unit))
        else:
            parts = list(_split_long_unit(unit, limit))
            for i, part in enumerate(parts):
                yield part, i == len(parts) - 1 and bool(pattern.search(part))


def chunk_sentence(units: Iterable[str], limit: int) -> list[str]:
    """Pack one sentence's units into texts of at most ``limit`` characters.

    Greedy: fill a chunk with whole units; when the next unit does not fit, cut at the
    last clause boundary if it is at least 60% of the limit in, else between words.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    current: list[tuple[str, bool]] = []
    length = 0
    for piece, ends_clause in _pieces(units, limit):
        extra = len(piece) + (1 if current else 0)
        if current and length + extra > limit:
            cut = len(current)
            for i in range(len(current) - 1, 0, -1):
                if current[i - 1][1]:
                    head_len = len(" ".join(p for p, _ in current[:i]))
                    if head_len >= _CLAUSE_MIN_FILL * limit:
                        cut = i
                    break
            chunks.append(" ".join(p for p, _ in current[:cut]))
            current = current[cut:]
            length = len(" ".join(p for p, _ in current))
            extra = len(piece) + (1 if current else 0)
            if current and length + extra > limit:
                chunks.append(" ".join(p for p, _ in current))
                current, length, extra = [], 0, len(piece)
        current.append((piece, ends_clause))
        length += extra
    if current:
        chunks.append(" ".join(p for p, _ in current))
    return chunks


def chunk_document(document: Document, limit: int) -> tuple[Chunk, ...]:
    """Chunk every sentence of ``document``; chunk indexes run across the whole article."""
    chunks: list[Chunk] = []
    for sentence in document.sentences:
        for text in _sentence_texts(sentence, limit):
            chunks.append(Chunk(len(chunks), text, sentence.index, sentence.paragraph))
    return tuple(chunks)


def _sentence_texts(sentence: Sentence, limit: int) -> list[str]:
    """The chunk texts of one sentence, skipping sentences with nothing to say."""
    return [text for text in chunk_sentence(sentence.units, limit) if text.strip()]
