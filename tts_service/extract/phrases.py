"""Recognise portal chrome, slogan banners and bylines from the phrase lists in ``data/``.

These are the only judgements made from wording rather than structure; both extractors
(HTML and plain text) share them so a phrase added to a data file helps both.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from tts_service.extract.data import load_lines

__all__ = [
    "boilerplate_name",
    "clean_line",
    "is_banner",
    "is_byline_start",
    "is_chrome",
    "is_dateline",
    "is_caption_name",
    "is_lead_name",
]

# A publication date alone: "Thứ Sáu, 09/07/2021 16:20", "Cập nhật: 10:30 - 09/07/2021".
_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
_TIME = r"\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s*(?:SA|CH|AM|PM|\(?GMT\s*\+\s*7\)?))?"
# The words before it repeat ("Ngày đăng: Thứ Sáu, …") and overlap: "ngày cập nhật" is also
# "ngày" + "cập nhật", "cập nhật lúc" is "cập nhật" + "lúc". A backtracking loop over them
# tries every way to cut a line that is not a date ("cập nhật lúc " × 23 took seconds,
# doubling with each repeat), so the loop is possessive (``*+``): words can never contain
# the digit a date starts with, so the greedy cut is the only one that can be followed by
# a date, and giving words back could never help.
_DATELINE = re.compile(
    r"^(?:(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy)|chủ\s+nhật|cập\s+nhật(?:\s+lúc)?|ngày\s+đăng"
    r"|đăng\s+ngày|ngày\s+cập\s+nhật|ngày|đăng\s+lúc|lúc)[\s,:|-]*)*+"
    rf"(?:{_DATE}(?:[\s,|-]*(?:lúc\s*)?{_TIME})?|{_TIME}[\s,|-]*(?:ngày\s*)?{_DATE})$",
    re.IGNORECASE,
)
# A dateline is one short line; a longer one is text, whatever it starts with.
_DATELINE_MAX_CHARS = 120
# Separators seen between toolbar items: "In trang | Xuất PDF", "Chia sẻ: Facebook · Zalo".
_SEPARATORS = r"[\s|/·•,:;>»›–-]*"


def clean_line(text: str) -> str:
    """NFC, no-break spaces and runs of whitespace made one space, ends trimmed."""
    text = unicodedata.normalize("NFC", text).replace("\xa0", " ").replace("\u200b", "")
    return re.sub(r"\s+", " ", text).strip()


def _alternation(phrases: tuple[str, ...]) -> str:
    """Longest first, so "In trang" wins over "In" and "+A" over "A"."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(re.escape(p) for p in ordered)


@cache
def _chrome_pattern() -> re.Pattern[str]:
    """A line made only of chrome phrases and separators, e.g. "-A A +A"."""
    words = _alternation(load_lines("chrome_phrases.txt"))
    # (?<!\w)/(?!\w) keep "In" from matching the start of "Internet".
    item = rf"(?<![\w+-])(?:{words})(?!\w)"
    return re.compile(rf"^{_SEPARATORS}(?:{item}{_SEPARATORS})+$", re.IGNORECASE)


@cache
def _opener_pattern(name: str) -> re.Pattern[str]:
    """A line starting with one of the openers in ``data/<name>``, as whole words."""
    return re.compile(rf"^(?:{_alternation(load_lines(name))})(?!\w)", re.IGNORECASE)


@cache
def _names_pattern(name: str) -> re.Pattern[str]:
    """A class or id token fully matching one of the expressions in ``data/<name>``."""
    return re.compile("|".join(f"(?:{p})" for p in load_lines(name)), re.IGNORECASE)


def is_chrome(text: str) -> bool:
    """True when ``text`` is nothing but portal UI: "Chế độ ban đêm In trang Xuất PDF"."""
    line = clean_line(text)
    return bool(line) and bool(_chrome_pattern().match(line))


def is_banner(text: str) -> bool:
    """True when ``text`` opens like a slogan: "Quyết tâm thực hiện thắng lợi Nghị quyết…"."""
    return bool(_opener_pattern("banner_openers.txt").match(clean_line(text)))


def is_byline_start(text: str) -> bool:
    """True when ``text`` opens like a source line: "Theo Báo Lạng Sơn", "Nguồn: …"."""
    return bool(_opener_pattern("byline_prefixes.txt").match(clean_line(text)))


def boilerplate_name(value: str) -> bool:
    """True when one token of a class/id attribute names furniture: ``tin-lien-quan``."""
    pattern = _names_pattern("boilerplate_names.txt")
    return any(pattern.fullmatch(token) for token in value.split())


def is_lead_name(value: str) -> bool:
    """True when one token of a class attribute names the lead: ``sapo``, ``summary``."""
    pattern = _names_pattern("lead_names.txt")
    return any(pattern.fullmatch(token) for token in value.split())


def is_caption_name(value: str) -> bool:
    """True when one token of a class attribute names a caption: ``image_desc``."""
    pattern = _names_pattern("caption_names.txt")
    return any(pattern.fullmatch(token) for token in value.split())


def is_dateline(text: str) -> bool:
    """True for a bare publication date, "Thứ Sáu, 09/07/2021 16:20": metadata, not text."""
    line = clean_line(text)
    return len(line) <= _DATELINE_MAX_CHARS and bool(_DATELINE.match(line))
