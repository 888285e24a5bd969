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

from tts_service.text.data import load_tsv
from tts_service.text.model import Document, Sentence

__all__ = ["Chunk", "chunk_document", "chunk_sentence"]


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


@cache
def _phrase_starts() -> frozenset[str]:
    return frozenset(row[0] for row in load_tsv("phrase_starts.tsv"))


def _cut_penalty(pieces: list[tuple[str, bool]], j: int) -> int:
    """How abrupt a cut before ``pieces[j]`` sounds: 0 after a clause, 1 before a phrase."""
    if j == 0 or pieces[j - 1][1]:
        return 0
    if pieces[j][0].lower() in _phrase_starts():
        return 1
    return 3


def chunk_sentence(units: Iterable[str], limit: int) -> list[str]:
    """Pack one sentence's units into as few texts of at most ``limit`` characters as possible.

    Among the packings with the fewest chunks (fewest requests, fewest joins a listener
    can hear), the one whose cuts sound least abrupt wins: after a clause ("…, Trưởng Ban
    thi đua," | "khen thưởng…"), else before a phrase word ("… Sở Nội vụ" | "và Lãnh đạo…"),
    else anywhere between words. A small dynamic programme over unit boundaries finds it.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces = list(_pieces(units, limit))
    n = len(pieces)
    # best[i]: (chunks, cuts not at a clause end) for pieces[:i], and where its last chunk starts.
    best: list[tuple[int, int]] = [(0, 0)] + [(n + 1, n + 1)] * n
    start = [0] * (n + 1)
    for i in range(1, n + 1):
        length = -1
        for j in range(i - 1, -1, -1):
            length += len(pieces[j][0]) + 1
            if length > limit:
                break
            cut_penalty = _cut_penalty(pieces, j)
            cost = (best[j][0] + 1, best[j][1] + cut_penalty)
            if cost < best[i]:
                best[i], start[i] = cost, j
    chunks: list[str] = []
    i = n
    while i > 0:
        j = start[i]
        chunks.append(" ".join(p for p, _ in pieces[j:i]))
        i = j
    chunks.reverse()
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
