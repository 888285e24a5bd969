"""Dates in the shapes newspapers use beyond ``09/7/2021``: dots, dashes, months at the end.

News writes a day and month with a dot or a dash after a time of day ("Chiều 13-9",
"Rạng sáng 5.8"), after a weekday or "ngày mai" and a comma ("Thứ Hai, 5/8"), and ranges
of days whose month comes only at the end ("từ 3 - 9.5", "đêm 16-17.12",
"14-20.2.2018", "từ tháng 5 - 12.2017", "15.11 - 15.12.2023"). Which words make a date
is data (``data/date/news_context.tsv``).

A dot between two numbers may also be a decimal written the English way ("tăng 5.8"),
so a date needs a context word, a year, or both ends of a range written as dates; when
unsure the rule declines, and the number is read as written ("năm chấm tám"), which
cannot state a wrong day. Readings follow :mod:`.date_parts`: every part named once,
"ngày" said before each day.

Priorities 190–194, before the phone numbers and dates of :mod:`.numeric` (200–213),
which would read "3.2.2024" of "3.2.1930 - 3.2.2024" alone and leave the dash. None of
these shapes is a phone number (no digit is glued before a day).
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_map
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import read_number
from tts_service.text.rules.date_parts import (
    DAY,
    MONTH,
    TO,
    YEAR,
    is_lunar,
    month_name,
    read_day_month,
    read_year,
)

__all__ = ["RULES"]

_WEEKDAYS = frozenset({"hai", "ba", "tư", "năm", "sáu", "bảy"})
# A written "ngày" before the first number, absorbed and said once.
_PRE = r"(?P<pre>\b(?i:ngày)\s+)?"
_START = r"(?<![\w/.,-])"
# Nothing glued after: no digit, no ".5" or "/2" or "-CP" continuing a number or a code.
_END = r"(?![0-9]|[./-][0-9A-Za-zĐđ])"
# A unit or time word after the numbers makes them an amount: "sáng 8-10 giờ", "5.8%".
_AMOUNT_AFTER = re.compile(r"\s*(?:%|(?i:giờ|h\b|phút|giây|độ|tấn|kg|km|m\b|triệu|tỷ|nghìn))")
_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _contexts() -> dict[str, str]:
    return load_map("date/news_context.tsv")


def _context(match: re.Match[str]) -> str | None:
    """The kind of context word just before the match (brackets and commas skipped)."""
    if match.group("pre"):
        return "day"
    words = _WORD.findall(match.string[max(0, match.start() - 40) : match.start()].lower())
    contexts = _contexts()
    for size in (2, 1):
        if len(words) >= size and (kind := contexts.get(" ".join(words[-size:]))):
            return kind
    if len(words) >= 2 and (
        (words[-2] == "thứ" and words[-1] in _WEEKDAYS) or words[-2:] == ["chủ", "nhật"]
    ):
        # Thứ Hai, 5/8; thứ Bảy (10.2); Chủ nhật 17-3
        return "day"
    return None


def _is_amount(match: re.Match[str]) -> bool:
    return _AMOUNT_AFTER.match(match.string, match.end()) is not None


# --- one day: Chiều 13-9, Rạng sáng 5.8, Thứ Hai, 5/8, ngày 15.8. ------------------

_DAY = re.compile(rf"(?=[0-9nN]){_PRE}{_START}(?P<d>{DAY})(?P<sep>[./-])(?P<m>{MONTH}){_END}")


def _verbalize_day(match: re.Match[str]) -> str | None:
    """Chiều 13-9: (chiều) ngày mười ba tháng chín; Thứ Hai, 5/8: ngày năm tháng tám."""
    kind = _context(match)
    if kind not in {"time", "day"} or _is_amount(match):
        # "tăng 5.8", "từ 9.5": a decimal as far as we can tell; the slash forms after
        # "ngày" or "sáng" are the older date rules' own
        return None
    if match.group("sep") == "/" and not match.group("pre") and kind == "time":
        return None
    if match.group("sep") == "/" and match.group("pre"):
        return None
    return read_day_month(*match.group("d", "m"), lunar=is_lunar(match))


# --- a range of days, month at the end: từ 3 - 9.5, đêm 16-17.12, 14-20.2.2018 ----------

_DAYS = re.compile(
    rf"(?=[0-9nN]){_PRE}{_START}(?P<a>{DAY})\s*[-–]\s*(?P<d>{DAY})(?P<sep>[./])(?P<m>{MONTH})"
    rf"(?:(?P=sep)(?P<y>{YEAR}))?{_END}"
)


def _verbalize_days(match: re.Match[str]) -> str | None:
    """27 - 28.6: ngày hai mươi bảy đến ngày hai mươi tám tháng sáu; 14-20.2.2018: … năm …"""
    if match.group("sep") == "/" and not match.group("y"):
        # 8-12/11: the range rule of date_range reads it
        return None
    if not match.group("y") and _context(match) is None:
        # "10 - 12.2" with nothing around it: perhaps an amount; not sure enough
        return None
    if _is_amount(match):
        return None
    last = read_day_month(*match.group("d", "m"), lunar=is_lunar(match))
    first = f"ngày {read_number(match.group('a'))}"
    return f"{first} {TO} {last}{read_year(match.group('y'))}"


# --- two dates with dots: 15.11 - 15.12.2023, 3.2.1930 - 3.2.2024 ---------------------

_SPAN = re.compile(
    rf"(?=[0-9nN]){_PRE}{_START}(?P<d1>{DAY})\.(?P<m1>{MONTH})(?:\.(?P<y1>{YEAR}))?\s*[-–]\s*"
    rf"(?P<d2>{DAY})\.(?P<m2>{MONTH})(?:\.(?P<y2>{YEAR}))?{_END}"
)


def _verbalize_span(match: re.Match[str]) -> str | None:
    """15.11 - 15.12.2023: ngày mười lăm tháng mười một đến ngày mười lăm tháng mười hai …"""
    if not (match.group("y1") or match.group("y2")) and _context(match) is None:
        # "1.5 - 2.5" alone may be amounts written the English way
        return None
    if _is_amount(match):
        return None
    lunar = is_lunar(match)
    first = read_day_month(*match.group("d1", "m1"), lunar=lunar) + read_year(match.group("y1"))
    second = read_day_month(*match.group("d2", "m2"), lunar=lunar) + read_year(match.group("y2"))
    return f"{first} {TO} {second}"


# --- months, year at the end: từ tháng 5 - 12.2017; a quarter with a zero: quý 02/2021 --

_MONTHS = re.compile(
    rf"(?=[tT])\b(?i:tháng)\s+(?P<m1>{MONTH})\s*[-–]\s*(?P<m2>{MONTH})\.(?P<y>{YEAR}){_END}"
)


def _verbalize_months(match: re.Match[str]) -> str:
    """tháng 3 - 11.2022: tháng ba đến tháng mười một năm hai nghìn không trăm hai mươi hai."""
    first, second = month_name(match.group("m1")), month_name(match.group("m2"))
    return f"tháng {first} {TO} tháng {second}{read_year(match.group('y'))}"


_QUARTER = re.compile(rf"(?=[qQ])\b(?i:quý)\s+0(?P<q>[1-4])\s*[/.-]\s*(?P<y>{YEAR}){_END}")


def _verbalize_quarter(match: re.Match[str]) -> str:
    """quý 02/2021: quý hai năm hai nghìn không trăm hai mươi mốt (not "quý tháng hai")."""
    return f"quý {read_number(match.group('q'))}{read_year(match.group('y'))}"


RULES: tuple[Rule, ...] = (
    Rule("date_news_quarter", _QUARTER, _verbalize_quarter, 190, ASCII_DIGITS),
    Rule("date_news_span", _SPAN, _verbalize_span, 191, ASCII_DIGITS),
    Rule("date_news_months", _MONTHS, _verbalize_months, 192, ASCII_DIGITS),
    Rule("date_news_days", _DAYS, _verbalize_days, 193, ASCII_DIGITS),
    Rule("date_news_day", _DAY, _verbalize_day, 194, ASCII_DIGITS),
)
