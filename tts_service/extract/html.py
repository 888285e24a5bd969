"""Read the article out of a portal page: title, lead, body and byline, no chrome.

Without a selector, trafilatura chooses the main content. It was picked over jusText
(which ships a Vietnamese stoplist) because on portal layouts it keeps what jusText
classes as boilerplate for being short, such as the byline "Vy Quản" and list items, it
keeps document structure (headings, lists, emphasis) that the lead and byline rules
need, and it reads the page title and author metadata. Before it runs, :mod:`.dom`
removes what both extractors miss on Vietnamese portals (toolbars "In trang Xuất PDF",
"-A A +A", Vietnamese-named boxes such as ``tin-lien-quan``) and turns captions and data
tables into paragraphs, which trafilatura would otherwise drop.

With a selector, the caller has already chosen: exactly the matched element is read
(after the same tidying), and trafilatura is not consulted.
"""

from __future__ import annotations

import logging
from typing import Any

import trafilatura
from cssselect import SelectorError as CssSelectorError

from tts_service.errors import ExtractError, SelectorError
from tts_service.extract.assemble import assemble
from tts_service.extract.blocks import HTML, TRAFILATURA, walk
from tts_service.extract.dom import Element, parse_html, pull_lead, tidy
from tts_service.extract.model import Article

__all__ = ["extract_html"]

logger = logging.getLogger(__name__)


def _select(root: Element, selector: str) -> list[Element]:
    """Elements matching ``selector``, outermost only, so nested matches are read once."""
    try:
        found: list[Element] = root.cssselect(selector)
    except (CssSelectorError, SyntaxError, ValueError) as exc:
        raise SelectorError(f"Bộ chọn CSS không hợp lệ (invalid CSS selector): {selector}") from exc
    chosen = [el for el in found if not any(other in el.iterancestors() for other in found)]
    if not chosen:
        raise SelectorError(
            f"Không tìm thấy phần tử theo bộ chọn (the selector matches nothing): {selector}"
        )
    return chosen


def _from_selection(root: Element, selector: str) -> Article:
    """Read exactly the selected element(s), tidied like a whole page."""
    chosen = _select(root, selector)
    blocks = []
    lead: str | None = None
    for element in chosen:
        tidy(element)
        lead = lead or pull_lead(element)
        blocks.extend(walk(element, HTML))
    return assemble(blocks, lead_hint=lead)


def _from_page(root: Element, url: str | None) -> Article:
    """Let trafilatura choose the main content of the tidied page."""
    tidy(root)
    lead = pull_lead(root)
    document: Any = trafilatura.bare_extraction(
        root,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        # Image elements must stay, or trafilatura also drops the captions beside them.
        include_images=True,
        include_formatting=True,
        include_links=False,
        deduplicate=False,
        # Precision mode drops short list items ("Từ đủ 18 tuổi trở lên;"); tidying has
        # already removed the furniture that recall mode would otherwise let in.
        favor_recall=True,
    )
    body = None if document is None else document.body
    if body is None or not "".join(body.itertext()).strip():
        raise ExtractError(
            "Không tìm thấy nội dung bài viết; hãy gửi kèm bộ chọn CSS "
            "(no article found; send a CSS selector of the article element)."
        )
    # Sizes only: portals send drafts and personal data, and logs outlive them.
    logger.debug("trafilatura found a body of %d elements", sum(1 for _ in body.iter()))
    return assemble(
        walk(body, TRAFILATURA),
        title_hint=document.title,
        lead_hint=lead,
        author_hint=document.author,
    )


def extract_html(html: str, *, selector: str | None = None, url: str | None = None) -> Article:
    """Return the article in ``html``; ``selector`` (CSS) names its element when known.

    ``url`` is the page's address, used only as metadata (nothing is fetched).
    Raises :class:`SelectorError` for a bad or unmatched selector and
    :class:`ExtractError` when no article text is found.
    """
    root = parse_html(html)
    article = _from_selection(root, selector) if selector else _from_page(root, url)
    if not (article.title or article.lead or article.paragraphs):
        raise ExtractError("Không tìm thấy nội dung bài viết (no article text found).")
    return article
