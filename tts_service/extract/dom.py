"""Parse HTML safely and tidy the tree before the article is chosen.

Parsing never executes or fetches anything: lxml's HTML parser has no JavaScript, is
told ``no_network=True``, and HTML has no external entities to resolve. Scripts, styles
and form controls are then removed outright.

Tidying is an ordered tuple of steps, each a ``tree -> None`` function, as in the text
pipeline. They remove what a portal repeats around every article (menus, toolbars, "Tin
liên quan") and rewrite what extractors tend to lose (figure captions, data tables) into
plain paragraphs, so both trafilatura and a caller's selector see the same clean tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement as Element

from tts_service.errors import ExtractError
from tts_service.extract.phrases import (
    boilerplate_name,
    clean_line,
    is_caption_name,
    is_chrome,
    is_lead_name,
)
from tts_service.extract.tables import is_layout_table, table_lines

__all__ = ["TIDY_STEPS", "Element", "parse_html", "pull_lead", "tidy"]

# Never read: code, styles, embeds and form controls (the search box, "Tìm kiếm").
_CODE_TAGS = (
    "script style noscript template iframe frame frameset object embed applet svg canvas "
    "math form button input select option textarea label marquee nav aside dialog"
).split()
_TABLE_PARTS = ("thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col")
# Chrome lines are short; longer elements are never tested, which keeps tidying linear.
_CHROME_MAX_CHARS = 120


def parse_html(html: str) -> Element:
    """Parse ``html`` into an lxml tree without network access or script execution."""
    parser = lxml_html.HTMLParser(
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        default_doctype=False,
    )
    text = html.replace("\x00", "")
    # lxml refuses str input that declares an encoding; the text is already decoded.
    if text.lstrip().startswith("<?xml"):
        text = text.split("?>", 1)[-1]
    if not text.strip():
        raise ExtractError("Trang trống (the page is empty).")
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"Không đọc được HTML (unreadable HTML): {exc}") from exc
    if not isinstance(root, Element):
        raise ExtractError("Không đọc được HTML (unreadable HTML).")
    return root


def _elements(root: Element) -> Iterator[Element]:
    """Element nodes in document order (no comments), safe to modify while iterating."""
    return iter([el for el in root.iter() if isinstance(el.tag, str)])


def _short_text(el: Element, limit: int) -> str | None:
    """The element's text when it is at most ``limit`` characters, else None."""
    size = 0
    parts: list[str] = []
    for part in el.itertext():
        size += len(part)
        if size > 4 * limit:
            return None
        parts.append(part)
    text = clean_line("".join(parts))
    return text if len(text) <= limit else None


def _holds_title(el: Element) -> bool:
    """An element holding the page's <h1> is the article's frame, never furniture."""
    return el.tag == "h1" or next(el.iterdescendants("h1"), None) is not None


def drop_code(root: Element) -> None:
    """Remove scripts, styles, embeds, forms, menus (<nav>) and side boxes (<aside>)."""
    for el in _elements(root):
        if el is not root and el.tag in _CODE_TAGS and el.getparent() is not None:
            el.drop_tree()


def drop_furniture(root: Element) -> None:
    """Remove elements whose class or id names furniture: ``tin-lien-quan``, ``share``."""
    for el in _elements(root):
        if el is root or el.getparent() is None:
            continue
        names = f"{el.get('class', '')} {el.get('id', '')}"
        if names.strip() and boilerplate_name(names) and not _holds_title(el):
            el.drop_tree()


def drop_chrome(root: Element) -> None:
    """Remove elements whose whole text is UI: "Chế độ ban đêm In trang Xuất PDF", "-A A +A"."""
    for el in _elements(root):
        if el is root or el.getparent() is None or el.tag in ("html", "body", "head"):
            continue
        if el.tag in ("title", "meta"):
            continue
        text = _short_text(el, _CHROME_MAX_CHARS)
        if text and is_chrome(text):
            el.drop_tree()


def unwrap_captions(root: Element) -> None:
    """Make captions plain paragraphs: <figcaption>, ``class="image_desc"`` → <p>."""
    for el in _elements(root):
        if el.tag == "figure":
            el.tag = "div"
        elif el.tag == "figcaption" or is_caption_name(el.get("class", "")):
            el.tag = "p"
            el.attrib.pop("class", None)


def flatten_tables(root: Element) -> None:
    """Replace each data table by one <p> per row: "Chỉ tiêu: Vốn; Kế hoạch: 1.200 tỷ".

    Layout tables (the page grid of older portals) become plain <div>s instead, so the
    extractor sees ordinary blocks rather than one huge "row". Inner tables go first.
    """
    for table in reversed([el for el in _elements(root) if el.tag == "table"]):
        parent = table.getparent()
        if parent is None:
            continue
        if is_layout_table(table):
            for part in [table, *table.iter(*_TABLE_PARTS)]:
                part.tag = "div"
            continue
        block = lxml_html.Element("div")
        for line in table_lines(table):
            para = lxml_html.Element("p")
            para.text = line
            block.append(para)
        block.tail = table.tail
        parent.replace(table, block)


TIDY_STEPS: tuple[Callable[[Element], None], ...] = (
    drop_code,
    drop_furniture,
    drop_chrome,
    flatten_tables,
    unwrap_captions,
)
"""The tidying steps, in order: removals first, so tables and captions left are content;
tables before captions, so a caption cell is read by its photo table."""


def tidy(root: Element) -> None:
    """Apply :data:`TIDY_STEPS` to ``root`` in place."""
    for step in TIDY_STEPS:
        step(root)


def pull_lead(root: Element) -> str | None:
    """Remove the lead (``<div class="sapo">``) from the tree and return its text.

    Extractors treat the sapo as one more paragraph or prune it; taking it out first
    keeps it as the lead, read right after the title.
    """
    for el in _elements(root):
        if el.getparent() is None or _holds_title(el) or not is_lead_name(el.get("class", "")):
            continue
        text = clean_line(el.text_content())
        if len(text) >= 20:
            el.drop_tree()
            return text
    return None
