"""Article extraction: from a portal page (HTML) or scraped text to what is read aloud.

``extract_html`` and ``extract_plain`` both return an :class:`Article` whose ``text``
is title, lead, body and byline, one paragraph a line, with the portal's chrome
(menus, slogans, "In trang Xuất PDF", "-A A +A", related articles) left out.
"""

from __future__ import annotations

from tts_service.extract.html import extract_html
from tts_service.extract.model import Article
from tts_service.extract.plain import extract_plain

__all__ = ["Article", "extract_html", "extract_plain"]
