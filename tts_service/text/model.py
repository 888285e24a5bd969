"""The normaliser's output: what will be read, sentence by sentence, with its origins.

A :class:`Document` is the contract between the text pipeline and the rest of the
service. The chunker only reads ``Sentence.units``; the WebVTT writer only reads
``Sentence.text``; the editor preview reads ``rewrites``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Document", "Rewrite", "Sentence"]


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One replacement made by a rule, e.g. ``UBND`` → ``Ủy ban nhân dân`` by ``abbreviation``.

    ``start``/``end`` are character offsets into the original input text.
    """

    start: int
    end: int
    source: str
    spoken: str
    rule: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence as written and as it will be spoken.

    ``units`` are the pieces the chunker may not cut: single words (with their trailing
    punctuation) or the whole spoken form of one expression, e.g. the date
    ``09/7/2021`` → ``"ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt"``.
    ``spoken == " ".join(units)``.
    """

    index: int
    paragraph: int
    text: str
    start: int
    end: int
    units: tuple[str, ...]
    rewrites: tuple[Rewrite, ...] = field(default=())

    @property
    def spoken(self) -> str:
        """The text the engine will say for this sentence."""
        return " ".join(self.units)


@dataclass(frozen=True, slots=True)
class Document:
    """A normalised article: its sentences in reading order."""

    sentences: tuple[Sentence, ...]

    @property
    def spoken_text(self) -> str:
        """All spoken sentences, one paragraph per block separated by blank lines."""
        paragraphs: list[list[str]] = []
        last = None
        for sentence in self.sentences:
            if sentence.paragraph != last:
                paragraphs.append([])
                last = sentence.paragraph
            paragraphs[-1].append(sentence.spoken)
        return "\n\n".join(" ".join(p) for p in paragraphs)
