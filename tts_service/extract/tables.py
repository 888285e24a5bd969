"""Make HTML tables speakable: one line per row, each cell named by its column.

A listener cannot see columns, so a row of a data table is read as
"Chỉ tiêu: Vốn đầu tư; Kế hoạch: 1.200 tỷ đồng; Thực hiện: 640 tỷ đồng". A table too big
to listen to is announced in one line instead, and a one-cell "table" that only frames a
photo and its caption (the CKEditor ``<table class="image">`` idiom) is read as the caption.
"""

from __future__ import annotations

from lxml.html import HtmlElement

from tts_service.extract.phrases import clean_line

__all__ = ["MAX_SPOKEN_ROWS", "is_layout_table", "table_lines"]

MAX_SPOKEN_ROWS = 15
"""Tables with more data rows than this are announced, not read row by row."""

_MAX_CELL_CHARS = 300


def _cells(row: HtmlElement) -> list[HtmlElement]:
    return [c for c in row if isinstance(c.tag, str) and c.tag in ("td", "th")]


def _rows(table: HtmlElement) -> list[HtmlElement]:
    """Rows of a data table (layout tables, which nest tables, are never read as rows)."""
    return list(table.iter("tr"))


def is_layout_table(table: HtmlElement) -> bool:
    """True for tables used to lay out a page (nested tables, long prose cells)."""
    if any(True for _ in table.iterdescendants("table")):
        return True
    return any(
        len(clean_line(cell.text_content())) > _MAX_CELL_CHARS
        for row in _rows(table)
        for cell in _cells(row)
    )


def table_lines(table: HtmlElement) -> list[str]:
    """Return the spoken lines of a data table (see the module docstring)."""
    grid = [[clean_line(c.text_content()) for c in _cells(r)] for r in _rows(table)]
    grid = [row for row in grid if any(row)]
    caption = clean_line(" ".join(c.text_content() for c in table.iter("caption")))
    if not grid:
        return [caption] if caption else []
    if table.find(".//img") is not None and max(len(r) for r in grid) == 1:
        # Photo frame: the text cells are the caption, "Toàn cảnh hội nghị".
        return [cell for row in grid for cell in row if cell]
    first = _rows(table)[0]
    has_header = bool(first.findall("th")) or first.getparent().tag == "thead"
    header, data = (grid[0], grid[1:]) if has_header and len(grid) > 1 else ([], grid)
    lines = [caption] if caption else []
    if len(data) > MAX_SPOKEN_ROWS:
        # "Bảng gồm 40 dòng, 6 cột, xem chi tiết trên trang."
        columns = max(len(r) for r in grid)
        return [
            *lines,
            f"Bảng gồm {len(data)} dòng, {columns} cột, xem chi tiết trên trang.",
        ]
    for row in data:
        if header and len(header) == len(row):
            pairs = [f"{h}: {v}" if h else v for h, v in zip(header, row, strict=True) if v]
        else:
            pairs = [v for v in row if v]
        lines.append("; ".join(pairs))
    return lines
