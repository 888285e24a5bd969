"""Fractions and ratios: 4/63 bốn trên sáu mươi ba, 1/2 một phần hai, tỷ lệ 1:2.

A slash between two numbers that the date rules did not claim is a fraction. A small
proper fraction (numerator below a denominator of at most 10) is a share and reads
with "phần" (1/2 một phần hai, 3/4 ba phần tư); any other, typically a count out of a
total such as "4/63 tỉnh", reads with "trên". Two consecutive years are a span
(2021/2022 … đến …), and a unit may follow (24/24h … trên hai mươi tư giờ). A colon
between numbers that is not a clock time is a ratio, read with "trên" (tỷ lệ 1:2 một
trên hai).

Priority: ``fraction`` 260 — after dates (so 9/7 after "ngày" is a date), times, money,
measures, ordinals and ranges; before plain numbers.
"""

from __future__ import annotations

import re

from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import WORDS, read_number
from tts_service.text.rules.date_parts import YEAR, after_part_word
from tts_service.text.rules.measure import UNIT_PATTERN, read_unit
from tts_service.text.rules.ordinal import read_ordinal

__all__ = ["RULES", "read_fraction"]

_FRACTION = re.compile(
    r"(?=[0-9])(?<![\w/.,:-])(?P<a>[0-9]+)(?P<op>[/:])(?P<b>[0-9]+)"
    rf"(?:\s?(?P<unit>{UNIT_PATTERN}))?(?![0-9]|[/.,:][0-9]|[^\W\d_])"
)

_YEAR = re.compile(YEAR)


def read_fraction(numerator: str, denominator: str) -> str:
    """``("4", "63")`` → "bốn trên sáu mươi ba"; ``("3", "4")`` → "ba phần tư"."""
    top, bottom = int(numerator), int(denominator)
    if 0 < top < bottom <= 10:
        # 3/4: ba phần tư (a share, with the ordinal "tư")
        return f"{read_number(numerator)} {WORDS['part']} {read_ordinal(str(bottom))}"
    # 4/63: bốn trên sáu mươi ba
    return f"{read_number(numerator)} {WORDS['over']} {read_number(denominator)}"


def _verbalize(match: re.Match[str]) -> str | None:
    """4/63: bốn trên sáu mươi ba; 1:2: một trên hai; 24/24h: … trên hai mươi tư giờ."""
    if match.group("op") == "/" and _YEAR.fullmatch(match.group("b")) and after_part_word(match):
        # tháng 0/2021: a date written wrong, its numbers read one by one (not "không trên")
        return None
    top, bottom = match.group("a"), match.group("b")
    if match.group("op") == ":":
        # tỷ lệ 1:500: một trên năm trăm
        reading = f"{read_number(top)} {WORDS['over']} {read_number(bottom)}"
    elif len(top) == len(bottom) == 4 and int(bottom) == int(top) + 1:
        # năm học 2021/2022: two consecutive years, a span rather than a fraction
        reading = f"{read_number(top)} {WORDS['range']} {read_number(bottom)}"
    else:
        reading = read_fraction(top, bottom)
    unit = match.group("unit")
    return f"{reading} {read_unit(unit)}" if unit else reading


RULES: tuple[Rule, ...] = (Rule("fraction", _FRACTION, _verbalize, 260, ASCII_DIGITS),)
