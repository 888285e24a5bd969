"""Ranges of dates: 30/6 - 2/7/2021, ngày 8-9/7, từ 8 đến 10/7, tháng 7-8/2021.

Each end is read as a date (see :mod:`.date_parts`), joined by "đến": "ngày tám đến
ngày chín tháng bảy". A range of days needs no context word: "diễn ra 8-12/11" is a
date, since nobody writes a range of fractions; only a mark out of ten ("điểm 8-9/10")
is left alone.

Priorities: ``date_span`` 206, ``date_day_range`` 207, ``date_month_range`` 209, among
the single dates of :mod:`.date` (205–213), so that a range is claimed before either
end could be read alone.
"""

from __future__ import annotations

import re

from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import read_number
from tts_service.text.rules.date_parts import (
    DASH,
    DAY,
    DAY_PREFIX,
    END,
    MONTH,
    START,
    TO,
    YEAR,
    day_month_pattern,
    is_lunar,
    join,
    month_name,
    prefix,
    previous_words,
    read_day_month,
    read_year,
)

__all__ = ["RULES"]

_SPAN = re.compile(
    rf"(?=[0-9nNmM]){DAY_PREFIX}{START}{day_month_pattern('1')}(?:/(?P<y1>{YEAR}))?{DASH}"
    rf"(?:(?i:ngày)\s+)?{day_month_pattern('2')}(?:/(?P<y2>{YEAR}))?{END}"
)


def _verbalize_span(match: re.Match[str]) -> str:
    """30/6 - 2/7/2021: ngày ba mươi tháng sáu đến ngày hai tháng bảy năm …"""
    lunar, written = is_lunar(match), prefix(match)
    first = read_day_month(*match.group("d1", "m1"), prefix=written, lunar=lunar)
    # nghỉ lễ 30/4 - 1/5: both ends without "ngày", as in a name
    second = read_day_month(*match.group("d2", "m2"), prefix="ngày" if written else "", lunar=lunar)
    return f"{first}{read_year(match.group('y1'))} {TO} {second}{read_year(match.group('y2'))}"


_DAY_RANGE = re.compile(
    rf"(?=[0-9nNmMtT])(?:(?P<from>\b(?i:từ)\s+(?:(?i:ngày)\s+)?)(?P<a1>{DAY})\s+(?i:đến|tới)\s+"
    rf"(?:(?i:ngày)\s+)?|{DAY_PREFIX}{START}(?P<a2>{DAY}){DASH})"
    rf"(?P<d>{DAY})/(?P<m>{MONTH})(?:/(?P<y>{YEAR}))?{END}"
)


def _verbalize_day_range(match: re.Match[str]) -> str | None:
    """ngày 8-9/7: ngày tám đến ngày chín tháng bảy; từ 8 đến 10/7: từ ngày tám đến …"""
    last = read_day_month(*match.group("d", "m"), lunar=is_lunar(match))
    tail = f"{TO} {last}{read_year(match.group('y'))}"
    if match.group("from"):
        # từ 8 đến 10/7/2021: từ ngày tám đến ngày mười tháng bảy năm …
        return f"từ ngày {read_number(match.group('a1'))} {tail}"
    if not match.group("pre") and previous_words(match)[-1:] == ["điểm"]:
        # điểm 8-9/10: marks out of ten
        return None
    # diễn ra 8-12/11: ngày tám đến ngày mười hai tháng mười một
    return join(prefix(match), read_number(match.group("a2")), tail)


_MONTH_RANGE = re.compile(
    rf"(?=[0-9tT])(?:\b(?i:tháng)\s+(?P<m1>{MONTH}){DASH}(?P<m2>{MONTH})(?:\s*/\s*(?P<y>{YEAR}))?"
    rf"|{START}(?P<n1>{MONTH}){DASH}(?P<n2>{MONTH})/(?P<z>{YEAR})){END}"
)


def _verbalize_month_range(match: re.Match[str]) -> str:
    """tháng 7-8/2021: tháng bảy đến tháng tám năm hai nghìn không trăm hai mươi mốt."""
    first, second = match.group("m1") or match.group("n1"), match.group("m2") or match.group("n2")
    reading = f"tháng {month_name(first)} {TO} tháng {month_name(second)}"
    return reading + read_year(match.group("y") or match.group("z"))


RULES: tuple[Rule, ...] = (
    Rule("date_span", _SPAN, _verbalize_span, 206, ASCII_DIGITS),
    Rule("date_day_range", _DAY_RANGE, _verbalize_day_range, 207, ASCII_DIGITS),
    Rule("date_month_range", _MONTH_RANGE, _verbalize_month_range, 209, ASCII_DIGITS),
)
