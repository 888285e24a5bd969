"""Walk a tree into blocks: one line of text per paragraph, heading or list item.

The same walker reads two vocabularies: the HTML of a caller's selected element, and
the TEI-like XML trafilatura returns (``<head>``, ``<p>``, ``<list><item>``, ``<hi>``).
A :class:`Dialect` says which tags start a block and which mark emphasis; emphasis is
kept because a fully bold first paragraph is the lead and a bold or italic last line
("Vy Quản") is the byline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tts_service.extract.phrases import clean_line

__all__ = ["HTML", "TRAFILATURA", "Block", "Dialect", "walk"]


@dataclass(frozen=True, slots=True)
class Block:
    """One line to read. ``kind`` is "heading", "item" or "paragraph"."""

    text: str
    kind: str = "paragraph"
    emphasised: bool = False


@dataclass(frozen=True, slots=True)
class Dialect:
    """Tag vocabulary of a tree: block tags by kind, emphasis, line breaks, skipped.

    A line break ends the current block, as a paragraph would.
    """

    headings: frozenset[str]
    items: frozenset[str]
    paragraphs: frozenset[str]
    emphasis: frozenset[str]
    breaks: frozenset[str] = field(default_factory=frozenset)
    skip: frozenset[str] = field(default_factory=frozenset)

    def kind(self, tag: str) -> str | None:
        """The block kind ``tag`` starts, or None for inline tags."""
        if tag in self.headings:
            return "heading"
        if tag in self.items:
            return "item"
        if tag in self.paragraphs:
            return "paragraph"
        return None


HTML = Dialect(
    headings=frozenset("h1 h2 h3 h4 h5 h6".split()),
    items=frozenset({"li", "dt", "dd"}),
    paragraphs=frozenset(
        "p div section article main header footer blockquote pre address figure "
        "figcaption table tr td th ul ol dl center body html".split()
    ),
    emphasis=frozenset({"b", "strong", "em", "i"}),
    breaks=frozenset({"br", "hr"}),
    skip=frozenset({"img", "head", "title", "meta", "link"}),
)
"""Block and emphasis tags of HTML, for a caller's selected element."""

TRAFILATURA = Dialect(
    headings=frozenset({"head"}),
    items=frozenset({"item"}),
    paragraphs=frozenset("p quote list table row cell body doc main div code".split()),
    emphasis=frozenset({"hi"}),
    breaks=frozenset({"lb"}),
    skip=frozenset({"graphic", "fw", "note"}),
)
"""Block and emphasis tags of trafilatura's XML output."""


class _Walker:
    """Collects text segments and emits a :class:`Block` at each block boundary."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.blocks: list[Block] = []
        self._segments: list[tuple[str, bool]] = []
        self._kinds: list[str] = ["paragraph"]

    def flush(self) -> None:
        text = clean_line("".join(s for s, _ in self._segments))
        if text:
            emphasised = all(e for s, e in self._segments if s.strip())
            self.blocks.append(Block(text, self._kinds[-1], emphasised))
        self._segments = []

    def visit(self, el: Any, emphasised: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag or tag in self.dialect.skip:
            if el.tail:
                self._segments.append((el.tail, emphasised))
            return
        kind = self.dialect.kind(tag)
        inner = emphasised or tag in self.dialect.emphasis
        if kind:
            self.flush()
            # <li><p>…</p></li> is still a list item.
            inside_item = kind == "paragraph" and self._kinds[-1] == "item"
            self._kinds.append("item" if inside_item else kind)
        if tag in self.dialect.breaks:
            # A hard line break in a portal's editor starts a new line to read:
            # "- Đậy kín dụng cụ chứa nước;<br>- Ngủ màn kể cả ban ngày."
            self.flush()
        if el.text:
            self._segments.append((el.text, inner))
        for child in el:
            self.visit(child, inner)
        if kind:
            self.flush()
            self._kinds.pop()
        if el.tail:
            self._segments.append((el.tail, emphasised))


def walk(root: Any, dialect: Dialect) -> list[Block]:
    """Return the blocks of ``root`` (an lxml element) in document order."""
    walker = _Walker(dialect)
    walker.visit(root, False)
    walker.flush()
    return walker.blocks
