"""Read an article out of plain text that was copied or scraped with the page's chrome.

Such text (see ``tests/fixtures/seed-article.txt``) has lost its tags, so the signals
are the lines themselves:

1. **Wrapped lines.** A Vietnamese paragraph never starts in lower case, so a line that
   does continues the previous one, as the caption split over "…khen thưởng Sở Nội vụ" /
   "phát biểu chỉ đạo tại hội nghị".
2. **Chrome.** Lines made only of portal UI phrases (``data/chrome_phrases.txt``) go:
   "Skip to main content", "Chế độ ban đêm In trang Xuất PDF Đọc nội dung", "-A A +A".
3. **Header and title.** The body starts at the first line that ends a sentence with a
   full stop; the lines above it are the header. There, breadcrumbs ("Trang chủ > Tin
   tức") and bare dates go, and so do slogan banners (a line opening with an entry of
   ``data/banner_openers.txt``, "Quyết tâm thực hiện thắng lợi Nghị quyết…") and
   all-capital site names ("SỞ KẾ HOẠCH VÀ ĐẦU TƯ") — but only when another header line
   follows them, so a real title "Chào mừng Ngày Quốc khánh 2/9" is never lost. The
   first header line left is the title; any others open the body.
4. **Byline.** Up to three short last lines that were right-aligned (copied text keeps
   that as a deep indent: "                Vy Quản") or open like a source ("Theo
   Báo Lạng Sơn") are the byline, read last.

Plain text has no bold, so no lead is guessed: the first paragraph is body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts_service.errors import ExtractError
from tts_service.extract.assemble import MAX_BYLINE_LINES, looks_like_byline
from tts_service.extract.model import Article
from tts_service.extract.phrases import clean_line, is_banner, is_chrome, is_dateline

__all__ = ["INDENT_MARK", "extract_plain"]

INDENT_MARK = 8
"""Leading spaces (no-break spaces count) from which a short last line is right-aligned."""

_BREADCRUMB = re.compile(r"\s[>»›]\s")
_BODY_START = re.compile(r"[.…]\s*$")


@dataclass(slots=True)
class _Line:
    """A non-empty line: its cleaned text and how deeply it was indented."""

    text: str
    indent: int


def _lines(text: str) -> list[_Line]:
    """Cleaned non-empty lines, with wrapped continuations joined (rule 1).

    A line's pieces are joined once at the end, and whether it ends a sentence is read
    from its last piece: joining and searching the whole line for each continuation
    made 50,000 wrapped lines quadratic.
    """
    pieces: list[tuple[list[str], int]] = []
    for raw in text.splitlines():
        expanded = raw.replace("\xa0", " ").replace("\t", "    ")
        line = clean_line(expanded)
        if not line:
            continue
        indent = len(expanded) - len(expanded.lstrip())
        if pieces and line[0].islower() and not _BODY_START.search(pieces[-1][0][-1]):
            pieces[-1][0].append(line)
            continue
        pieces.append(([line], indent))
    return [_Line(" ".join(parts), indent) for parts, indent in pieces]


def _is_site_name(text: str) -> bool:
    """ALL-CAPS headers are portal names: "SỞ KẾ HOẠCH VÀ ĐẦU TƯ TỈNH LẠNG SƠN"."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def _title(header: list[_Line]) -> tuple[str | None, list[str]]:
    """Apply rule 3 to the header; return the title and the header lines that are body."""
    kept = [h for h in header if not _BREADCRUMB.search(h.text) and not is_dateline(h.text)]
    while len(kept) > 1 and (is_banner(kept[0].text) or _is_site_name(kept[0].text)):
        kept.pop(0)
    if not kept:
        return None, []
    return kept[0].text, [h.text for h in kept[1:]]


def extract_plain(text: str) -> Article:
    """Return the article in scraped ``text``: title, body and byline, chrome removed.

    Raises :class:`ExtractError` when no line of article text is left.
    """
    lines = [line for line in _lines(text) if not is_chrome(line.text)]
    start = next((i for i, line in enumerate(lines) if _BODY_START.search(line.text)), None)
    if start is None:
        # No full stop anywhere: a short notice; its first line is the title.
        start = min(1, len(lines))
    title, opening = _title(lines[:start])
    body = lines[start:]
    byline: list[str] = []
    while body and len(byline) < MAX_BYLINE_LINES:
        last = body[-1]
        if not looks_like_byline(last.text, marked=last.indent >= INDENT_MARK):
            break
        byline.insert(0, last.text)
        body.pop()
    paragraphs = (*opening, *(line.text for line in body))
    if not title and not paragraphs:
        raise ExtractError("Không còn nội dung để đọc (no article text left).")
    return Article(title=title, lead=None, paragraphs=paragraphs, byline=", ".join(byline) or None)
