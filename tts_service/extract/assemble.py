"""Split an article's blocks into title, lead, body and byline.

Structure decides first (the page's ``<h1>``, a ``class="sapo"`` element, the page's
author metadata); the rules below only fill in what structure did not say:

* **Title**: the heading that matches the page title, and everything before it is
  dropped (a side box's "Liên kết website" heading printed above the article).
* **Lead**: a first paragraph that is entirely bold or italic and at least a sentence
  long, the way editors set the sapo "Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư ...".
* **Byline**: up to three short last lines that are emphasised or open like a source
  ("Vy Quản" in bold, "Theo Báo Lạng Sơn"), read last and joined with commas.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tts_service.extract.blocks import Block
from tts_service.extract.model import Article
from tts_service.extract.phrases import clean_line, is_byline_start, is_chrome, is_dateline

__all__ = ["MAX_BYLINE_LINES", "assemble", "looks_like_byline"]

MAX_BYLINE_LINES = 3
_BYLINE_MAX_CHARS = 80
_LEAD_MIN_CHARS = 40
_SENTENCE_END = re.compile(r"[.!?…:;]\s*$")


def _same(a: str, b: str) -> bool:
    """Titles match when one starts the other, ignoring case (``<title>`` adds a site name)."""
    a, b = clean_line(a).casefold(), clean_line(b).casefold()
    return bool(a and b) and (a.startswith(b) or b.startswith(a))


def looks_like_byline(text: str, *, marked: bool) -> bool:
    """A short line without a sentence end, either ``marked`` (bold, indented) or "Theo …"."""
    line = clean_line(text)
    if not line or len(line) > _BYLINE_MAX_CHARS:
        return False
    if is_byline_start(line):
        return True
    return marked and not _SENTENCE_END.search(line)


def _split_title(blocks: list[Block], hint: str | None) -> tuple[str | None, list[Block]]:
    for index, block in enumerate(blocks):
        if block.kind == "heading" and hint and _same(block.text, hint):
            return block.text, blocks[index + 1 :]
    if blocks and blocks[0].kind == "heading":
        return blocks[0].text, blocks[1:]
    return (clean_line(hint) or None) if hint else None, blocks


def assemble(
    blocks: Sequence[Block],
    *,
    title_hint: str | None = None,
    lead_hint: str | None = None,
    author_hint: str | None = None,
) -> Article:
    """Build an :class:`Article` from ``blocks`` (see the module docstring)."""
    # A bare date line is page metadata; trafilatura drops it too, so the selector path must.
    body = [b for b in blocks if not is_chrome(b.text) and not is_dateline(b.text)]
    title, body = _split_title(body, title_hint)
    lead = lead_hint
    if lead is None and body:
        first = body[0]
        if first.kind == "paragraph" and first.emphasised and len(first.text) >= _LEAD_MIN_CHARS:
            lead, body = first.text, body[1:]
    byline: list[str] = []
    while body and len(byline) < MAX_BYLINE_LINES:
        last = body[-1]
        if last.kind != "paragraph" or not looks_like_byline(last.text, marked=last.emphasised):
            break
        byline.insert(0, last.text)
        body.pop()
    if not byline and author_hint:
        byline = [clean_line(author_hint)]
    paragraphs = tuple(b.text for b in body if not (title and b.text == title))
    return Article(
        title=title,
        lead=lead,
        paragraphs=paragraphs,
        byline=", ".join(byline) or None,
    )
