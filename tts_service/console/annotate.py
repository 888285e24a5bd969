"""One article as the console shows it: each sentence as written and as spoken, in pieces.

A sentence becomes a list of :class:`Piece`: plain text, a rewrite (``UBND`` → ``Ủy ban
nhân dân``, rule ``abbreviation``) or a token the normaliser could only spell out or leave
as written (``T.Ư``). The written side is cut at the rewrites' offsets; the spoken side is
cut where each rewrite's spoken form appears, in order, so the two sides of rewrite 3
carry the same number and the page can pair them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tts_service.text.model import Document, Sentence
from tts_service.text.unknown import Unknown, find_unknown

__all__ = ["Piece", "SentenceView", "annotate"]


@dataclass(frozen=True, slots=True)
class Piece:
    """A piece of a sentence; ``rule`` is set for a rewrite, ``unknown`` for a flagged token."""

    text: str
    rule: str | None = None
    # The other side of a rewrite: the spoken form on the written side and vice versa.
    other: str | None = None
    number: int | None = None
    unknown: bool = False
    # For a flagged token: how it was said ("tê chấm ư"), or None if left as written.
    said: str | None = None


@dataclass(frozen=True, slots=True)
class SentenceView:
    """One sentence: its index and paragraph, and both sides as pieces."""

    index: int
    paragraph: int
    written: list[Piece] = field(default_factory=list)
    spoken: list[Piece] = field(default_factory=list)
    flagged: int = 0


def annotate(document: Document) -> list[SentenceView]:
    """Every sentence of ``document`` cut into pieces (see the module's docstring)."""
    unknown = find_unknown(document)
    views = []
    counter = 0
    for sentence in document.sentences:
        mine = [u for u in unknown if sentence.start <= u.start and u.end <= sentence.end]
        written, spoken, counter = _pieces(sentence, mine, counter)
        views.append(
            SentenceView(
                sentence.index, sentence.paragraph, written, spoken, sum(p.unknown for p in written)
            )
        )
    return views


def _pieces(
    sentence: Sentence, unknown: list[Unknown], counter: int
) -> tuple[list[Piece], list[Piece], int]:
    text = sentence.text
    spans: list[tuple[int, int, Piece]] = []
    cursor = 0
    numbered: list[Piece] = []
    for rewrite in sentence.rewrites:
        start = _locate(text, rewrite.source, rewrite.start - sentence.start, cursor)
        if start is None:
            continue
        end = start + len(rewrite.source)
        counter += 1
        flagged = next((u for u in unknown if u.start == rewrite.start), None)
        piece = Piece(
            rewrite.source,
            rule=rewrite.rule,
            other=rewrite.spoken,
            number=counter,
            unknown=flagged is not None,
            said=rewrite.spoken if flagged is not None else None,
        )
        spans.append((start, end, piece))
        numbered.append(piece)
        cursor = end
    for item in unknown:
        # Tokens left as written were claimed by no rule: flag them where they stand.
        if item.spoken is not None:
            continue
        start = _locate(text, item.token, item.start - sentence.start, 0)
        if start is None or any(a < start + len(item.token) and start < b for a, b, _ in spans):
            continue
        spans.append((start, start + len(item.token), Piece(item.token, unknown=True)))
    spans.sort(key=lambda span: span[0])
    written: list[Piece] = []
    at = 0
    for start, end, piece in spans:
        if start > at:
            written.append(Piece(text[at:start]))
        written.append(piece)
        at = end
    if at < len(text):
        written.append(Piece(text[at:]))
    return written, _spoken(sentence.spoken, numbered), counter


def _locate(text: str, token: str, hint: int, cursor: int) -> int | None:
    """Where ``token`` is in ``text``: at ``hint`` when the offsets agree, else searched."""
    if token and 0 <= hint and text[hint : hint + len(token)] == token and hint >= cursor:
        return hint
    found = text.find(token, cursor) if token else -1
    return found if found >= 0 else None


def _spoken(spoken: str, rewrites: list[Piece]) -> list[Piece]:
    """The spoken sentence with each rewrite's spoken form marked, matched in order."""
    pieces: list[Piece] = []
    at = 0
    for rewrite in rewrites:
        said = rewrite.other or ""
        found = spoken.find(said, at) if said else -1
        if found < 0:
            continue
        if found > at:
            pieces.append(Piece(spoken[at:found]))
        pieces.append(
            Piece(
                said,
                rule=rewrite.rule,
                other=rewrite.text,
                number=rewrite.number,
                unknown=rewrite.unknown,
            )
        )
        at = found + len(said)
    if at < len(spoken):
        pieces.append(Piece(spoken[at:]))
    return pieces
