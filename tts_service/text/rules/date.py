"""Dates: 09/7/2021, 9-7-2021, ngày 09/7, tháng 7/2021, năm 2021, Quý II/2021.

How a date is read, and when a bare ``9/7`` is one, is explained in
:mod:`.date_parts`; ranges of dates are in :mod:`.date_range`. A written "ngày",
"tháng", "năm" or "quý" in front of the numbers is absorbed into the match and read in
lower case, so it is never said twice. A full date with a two-digit year (``09/7/21``)
needs the same context as a day/month without a year.

Priorities: ``date_quarter`` 205, ``date`` 208 (09/7/2021), ``date_month_year`` 210
(7/2021), ``date_day_month`` 211 (ngày 9/7), ``date_month`` 212 (tháng 4),
``date_year`` 213 (năm 2021-2025), around the ranges (206, 207, 209). Phone numbers
(200) come first; times, money and all plain numbers come after.
"""

from __future__ import annotations

import re

from tts_service.text.rules import date_range
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import read_number
from tts_service.text.rules.date_parts import (
    DASH,
    DAY,
    DAY_PREFIX,
    END,
    MONTH,
    MONTHS,
    START,
    TO,
    YEAR,
    after_part_word,
    day_month_pattern,
    has_context,
    is_lunar,
    month_name,
    prefix,
    read_day_month,
    read_year,
)
from tts_service.text.rules.roman_numeral import roman_to_int

__all__ = ["MONTHS", "RULES", "read_day_month"]

_QUARTER = re.compile(
    rf"(?=[qQ])\b(?i:quý)\s+(?P<q>[1-4]|IV|I{{1,3}})(?![\w])"
    rf"(?:\s*[/-]\s*(?P<y>{YEAR})|\s+(?i:năm)\s+(?P<y2>{YEAR}))?{END}"
)


def _verbalize_quarter(match: re.Match[str]) -> str:
    """Quý II/2021: quý hai năm hai nghìn không trăm hai mươi mốt."""
    quarter = match.group("q")
    number = int(quarter) if quarter.isdigit() else roman_to_int(quarter)
    return f"quý {read_number(str(number))}{read_year(match.group('y') or match.group('y2'))}"


_FULL = re.compile(
    rf"(?=[0-9nNmM]){DAY_PREFIX}{START}(?P<d>{DAY})(?P<sep>[/.-])(?P<m>{MONTH})(?P=sep)"
    rf"(?P<y>{YEAR}|[0-9]{{2}}){END}"
)


def _verbalize_full(match: re.Match[str]) -> str | None:
    """Ngày 09/7/2021 or 9-7-2021: ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt."""
    if len(match.group("y")) == 2 and not has_context(match):
        # 1/2/21 with no "ngày" before it: not sure enough that it is a date
        return None
    day_month = read_day_month(*match.group("d", "m"), prefix=prefix(match), lunar=is_lunar(match))
    return day_month + read_year(match.group("y"))


_MONTH_YEAR = re.compile(
    rf"(?=[0-9tT])(?:\b(?i:tháng)\s+(?P<m1>{MONTH})(?:\s*[/-]\s*|\s+(?i:năm)\s+)|{START}(?P<m2>{MONTH})/)"
    rf"(?P<y>{YEAR}){END}"
)


def _verbalize_month_year(match: re.Match[str]) -> str | None:
    """tháng 7/2021 or 7/2021: tháng bảy năm hai nghìn không trăm hai mươi mốt."""
    if match.group("m2") and after_part_word(match):
        # quý 5/2021: no fifth quarter, but no month either (not "quý tháng năm …")
        return None
    month = match.group("m1") or match.group("m2")
    return f"tháng {month_name(month, lunar=is_lunar(match))}{read_year(match.group('y'))}"


_DAY_MONTH = re.compile(
    rf"(?=[0-9nNmM]){DAY_PREFIX}{START}(?:{day_month_pattern('')}"
    rf"|(?<=\s)(?P<dx>{DAY})[.-](?P<mx>{MONTH})(?=[\s,;:)]|$)){END}"
)


def _verbalize_day_month(match: re.Match[str]) -> str | None:
    """ngày 09/7: ngày chín tháng bảy; Sáng 9/7: (sáng) ngày chín tháng bảy."""
    if match.group("d"):
        if not has_context(match):
            # 4/63 tỉnh, thành phố: a fraction, left to the fraction rule
            return None
        return read_day_month(*match.group("d", "m"), prefix=prefix(match), lunar=is_lunar(match))
    if not match.group("pre") or "ngày" not in match.group("pre").lower():
        # 9-7 or 9.7 is a date only right after "ngày": ngày 9-7 ngày chín tháng bảy
        return None
    return read_day_month(*match.group("dx", "mx"), prefix=prefix(match), lunar=is_lunar(match))


_MONTH = re.compile(rf"(?=[tT])\b(?i:tháng)\s+(?P<m>{MONTH})(?![0-9]|[.,/-][0-9])")


def _verbalize_month(match: re.Match[str]) -> str:
    """tháng 4: tháng tư (never tháng bốn); tháng 12: tháng mười hai; tháng 1 âm lịch: giêng."""
    return f"tháng {month_name(match.group('m'), lunar=is_lunar(match))}"


_YEAR = re.compile(rf"(?=[nN])\b(?i:năm)\s+(?P<y1>{YEAR})(?:{DASH}(?P<y2>{YEAR}))?{END}")


def _verbalize_year(match: re.Match[str]) -> str:
    """năm 2021: năm hai nghìn không trăm hai mươi mốt; năm 2021-2025: … đến …"""
    reading = f"năm {read_number(match.group('y1'))}"
    if match.group("y2"):
        reading += f" {TO} {read_number(match.group('y2'))}"
    return reading


RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            Rule("date_quarter", _QUARTER, _verbalize_quarter, 205),
            Rule("date", _FULL, _verbalize_full, 208, ASCII_DIGITS),
            Rule("date_month_year", _MONTH_YEAR, _verbalize_month_year, 210, ASCII_DIGITS),
            Rule("date_day_month", _DAY_MONTH, _verbalize_day_month, 211, ASCII_DIGITS),
            Rule("date_month", _MONTH, _verbalize_month, 212, ASCII_DIGITS),
            Rule("date_year", _YEAR, _verbalize_year, 213, ASCII_DIGITS),
            *date_range.RULES,
        ),
        key=lambda rule: rule.priority,
    )
)
