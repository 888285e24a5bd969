"""Quantities with a unit: 12,5%, 35°C, 1.250 ha, 100 km/h, 2,5 nghìn m², 10–15%.

Unit readings live in ``data/measure/unit.tsv`` and are matched case-sensitively,
longest first (``km²`` before ``km`` before ``m``), and only when no letter follows, so
"5 món" or "8 mét" are left alone. A scale word may stand between number and unit
(2,5 nghìn ha), a range shares one unit (10–15% mười đến mười lăm phần trăm) or
repeats it (10% - 15%), and a part of a total reads "trên" (85,6 km/121 km … ki lô
mét trên một trăm hai mươi mốt ki lô mét).

Priority: ``measure`` 240 — after dates, times and money, before ordinals, ranges,
fractions and plain numbers.
"""

from __future__ import annotations

import re

from tts_service.text.data import load_map, load_tsv
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import NUMERAL, NUMERAL_START, WORDS, read_numeral

__all__ = ["RULES", "SCALE_WORDS", "UNITS", "UNIT_PATTERN", "read_unit"]

#: Written unit → reading, e.g. ``"km/h"`` → "ki lô mét trên giờ".
UNITS: dict[str, str] = load_map("measure/unit.tsv")
#: Scale words that may follow a number: nghìn, triệu, tỷ, …
SCALE_WORDS: tuple[str, ...] = tuple(row[0] for row in load_tsv("numbers/scale_word.tsv"))

#: A regex alternation of every written unit, longest first.
UNIT_PATTERN = "|".join(re.escape(unit) for unit in sorted(UNITS, key=len, reverse=True))
_SCALES = r"(?:\s+(?:" + "|".join(SCALE_WORDS) + r")(?![^\W\d_]))*"
_NO_LETTER = r"(?![^\W\d_])"

_MEASURE = re.compile(
    rf"(?=[-−0-9])(?P<n1>{NUMERAL_START}{NUMERAL})"
    rf"(?:(?P<s1>{_SCALES})\s*(?P<u1>{UNIT_PATTERN}){_NO_LETTER})?"
    rf"(?:\s*[-–—]\s*(?P<n2>{NUMERAL}))?"
    rf"(?P<s2>{_SCALES})\s*(?P<u2>{UNIT_PATTERN}){_NO_LETTER}(?![0-9])"
    # 85,6 km/121 km: a part of a total
    rf"(?:\s?/\s?(?P<n3>{NUMERAL})(?P<s3>{_SCALES})\s*(?P<u3>{UNIT_PATTERN}){_NO_LETTER}(?![0-9]))?"
)


def read_unit(unit: str) -> str:
    """``"m²"`` → "mét vuông"; an unknown unit is returned unchanged."""
    return UNITS.get(unit, unit)


def _quantity(number: str, scale: str | None, unit: str | None) -> str:
    """One number with its optional scale words and unit, read aloud."""
    words = [read_numeral(number), *(scale or "").split()]
    if unit:
        words.append(read_unit(unit))
    return " ".join(words)


def _verbalize(match: re.Match[str]) -> str:
    """12,5%: mười hai phẩy năm phần trăm; 10–15%: mười đến mười lăm phần trăm."""
    if match.group("n2") is None:
        # 35°C: ba mươi lăm độ xê; 2,5 nghìn ha: hai phẩy năm nghìn héc ta
        reading = _quantity(match.group("n1"), match.group("s2"), match.group("u2"))
    else:
        # 10% - 15%: mười phần trăm đến mười lăm phần trăm
        first = _quantity(match.group("n1"), match.group("s1"), match.group("u1"))
        second = _quantity(match.group("n2"), match.group("s2"), match.group("u2"))
        reading = f"{first} {WORDS['range']} {second}"
    if match.group("n3"):
        # 85,6 km/121 km: tám mươi lăm phẩy sáu ki lô mét trên một trăm hai mươi mốt ki lô mét
        total = _quantity(match.group("n3"), match.group("s3"), match.group("u3"))
        reading += f" {WORDS['over']} {total}"
    return reading


RULES: tuple[Rule, ...] = (Rule("measure", _MEASURE, _verbalize, 240, ASCII_DIGITS),)
