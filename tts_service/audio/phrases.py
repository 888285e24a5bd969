"""Where each chunk of a sentence begins in the sentence as written.

The engine reads a sentence in chunks cut at natural phrase boundaries (see
:mod:`tts_service.text.chunker`), and each chunk's audio is measured in frames. To
highlight the phrase being read, the player needs each chunk's *written* text, while a
chunk is *spoken* text: "Ngày 09/7/2021," is read "Ngày ngày chín tháng bảy năm hai nghìn
không trăm hai mươi mốt,". The two are aligned through letters and digits: outside the
normaliser's rewrites they are the same characters in the same order (cleaning only
touches spaces, quotes, marks and tone-mark placement), and each rewrite stands for
its own written span. Positions are never guessed: when the counts disagree (an
unexpected cleaning), the sentence gets no phrases, only its sentence cue.
"""

from __future__ import annotations

from collections.abc import Sequence

from tts_service.text.model import Sentence

__all__ = ["phrase_starts", "split_phrases"]


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


def _letter_positions(sentence: Sentence) -> list[int] | None:
    """For every letter or digit the engine is given, its offset in ``sentence.text``.

    Letters of a rewrite's reading all point at the start of its written span: "09/7/2021"
    read as "ngày chín tháng bảy…" is one place in the text.
    """
    text = sentence.text
    positions: list[int] = []
    cursor = 0
    for rewrite in sorted(sentence.rewrites, key=lambda r: r.start):
        start, end = rewrite.start - sentence.start, rewrite.end - sentence.start
        if start < cursor or end > len(text):
            return None
        positions.extend(i for i in range(cursor, start) if text[i].isalnum())
        positions.extend([start] * _letters(rewrite.spoken))
        cursor = end
    positions.extend(i for i in range(cursor, len(text)) if text[i].isalnum())
    return positions


def phrase_starts(sentence: Sentence, chunks: Sequence[str]) -> list[int] | None:
    """Offsets in ``sentence.text`` where each of its ``chunks`` (spoken, in order) begins.

    The first is 0. A chunk starting with an opening mark ("(Cụm trưởng)") begins at the
    mark. ``None`` when the chunks' letters do not line up with the sentence's.
    """
    positions = _letter_positions(sentence)
    counts = [_letters(chunk) for chunk in chunks]
    if positions is None or sum(counts) != len(positions) or not counts:
        return None
    text = sentence.text
    starts = [0]
    seen = counts[0]
    for count in counts[1:]:
        if seen >= len(positions):
            return None
        at = positions[seen]
        # Back over the marks glued to the phrase's first word: "(Cụm", "“Quyết".
        while at > starts[-1] and not text[at - 1].isspace() and not text[at - 1].isalnum():
            at -= 1
        starts.append(max(at, starts[-1]))
        seen += count
    return starts


def split_phrases(sentence: Sentence, chunks: Sequence[str]) -> list[str] | None:
    """The written text of each chunk: consecutive pieces of ``sentence.text``.

    A piece may be empty when two chunks share one written expression (an overlong
    number read in two requests); ``None`` when the chunks cannot be placed.
    """
    starts = phrase_starts(sentence, chunks)
    if starts is None:
        return None
    ends = [*starts[1:], len(sentence.text)]
    return [sentence.text[a:b] for a, b in zip(starts, ends, strict=True)]
