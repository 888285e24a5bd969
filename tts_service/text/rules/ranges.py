"""Bare numeric ranges: 2015 - 2020, 2021-2025, 5–7, 1,5-2 read with "đến".

Only a dash between two numbers is a range, and only when the numbers rise
(2015 - 2020 hai nghìn không trăm mười lăm đến hai nghìn không trăm hai mươi); a score
such as "thắng 2-1" is not. A dash between words ("Thi đua - Khen thưởng") or inside a
code ("KT-XH", "Covid-19") is never touched. Ranges with a unit, currency, date or time
are read by those rules, which run first.

A second year may be shortened to two digits: "năm học 2021-22" reads both years in
full, as "2021-2022" would be.

Priorities: ``range_years`` 249 and ``range`` 250 — after dates, times, money, measures
and ordinals, before fractions and plain numbers.
"""

from __future__ import annotations

import re

from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import NUMERAL, WORDS, read_numeral

__all__ = ["RULES"]

_RANGE = re.compile(
    rf"(?=[0-9])(?<![\w.,/-])(?P<a>{NUMERAL})\s*[-–—]\s*(?P<b>{NUMERAL})"
    r"(?![0-9]|[.,/-][0-9]|[^\W\d_])"
)


# A span of years with the second one shortened: năm học 2021-22, niên khóa 2021/22.
_YEARS = re.compile(
    r"(?=[12])(?<![\w.,/-])(?P<a>(?:19|20)[0-9]{2})\s*[-–/]\s*(?P<b>[0-9]{2})"
    r"(?![0-9]|[.,/-][0-9]|[^\W\d_])"
)


def _value(written: str) -> float:
    """The numeric value of a written number, to check that a range rises."""
    if written.count(",") >= 2:
        return float(written.replace(",", ""))
    if "." in written and len(written.rpartition(".")[2]) <= 2 and written.count(".") == 1:
        return float(written)
    return float(written.replace(".", "").replace(",", "."))


def _verbalize(match: re.Match[str]) -> str | None:
    """2021-2025: hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi lăm."""
    first, second = match.group("a"), match.group("b")
    if _value(first) >= _value(second):
        # thắng 2-1: a score, not a range; the plain number rule reads each side
        return None
    return f"{read_numeral(first)} {WORDS['range']} {read_numeral(second)}"


def _verbalize_years(match: re.Match[str]) -> str | None:
    """2021-22: hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi hai."""
    first = int(match.group("a"))
    second = first - first % 100 + int(match.group("b"))
    if second <= first:
        # 1999-00 spans a century: 2000
        second += 100
    if second - first > 10:
        # 2021-45: not a span of years
        return None
    return f"{read_numeral(str(first))} {WORDS['range']} {read_numeral(str(second))}"


RULES: tuple[Rule, ...] = (
    Rule("range_years", _YEARS, _verbalize_years, 249, ASCII_DIGITS),
    Rule("range", _RANGE, _verbalize, 250, ASCII_DIGITS),
)
