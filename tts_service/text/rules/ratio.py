"""A slash between two amounts is "trên": "540 tỷ/1.200 tỷ đồng", "1.023/1.150 thôn".

The fraction rule (260) reads "4/63" but not amounts written with thousands dots, a
decimal comma or a magnitude word, which a slash still divides: "(2,9 tỷ/3,1 tỷ)" →
"hai phẩy chín tỷ trên ba phẩy một tỷ". One side at least must be shaped so that it is
no date ("1.023", "2,9" or "540 tỷ"), so "9/7" and "15/2021" are never taken here. A
word before the slash and a number of three digits or more after it is a count against
that number: "14,5 bác sĩ/10.000 dân" → "… bác sĩ trên mười nghìn dân".

Priority 199: before phone numbers, dates and money (200–231), which would otherwise read
"540 tỷ" and "1.200 tỷ đồng" as two amounts and leave the slash. Legal codes
(15/2021/NĐ-CP) and the per-unit slash of "đồng/kg" (35) are claimed earlier.
"""

from __future__ import annotations

import re

from tts_service.text.rules.base import Rule
from tts_service.text.rules.cardinal import WORDS, read_numeral
from tts_service.text.rules.measure import UNITS

__all__ = ["RULES"]

_NUMBER = r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?|[0-9]+(?:,[0-9]+)?"
_SCALE = r"tỷ|triệu|nghìn|ngàn|trăm"
_RATIO = re.compile(
    rf"(?=[0-9])(?<![\w/.,-])(?P<a>{_NUMBER})(?:\s*(?P<s>{_SCALE}))?\s*/\s*(?P<b>{_NUMBER})"
    rf"(?![0-9]|[/.,-][0-9])"
)
# A count against a large number after a word: "14,5 bác sĩ/10.000 dân".
_PER_NUMBER = re.compile(
    r"(?=[ /])(?<=[^\W\d_])\s*/\s*(?P<b>[0-9]{1,3}(?:\.[0-9]{3})+|[1-9][0-9]{2,})"
    r"(?![0-9]|[/.,-][0-9])"
)
_NOT_A_DATE = re.compile(r"[.,]")
_WORD_BEFORE = re.compile(r"[^\W\d_]+$")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")


def _verbalize(match: re.Match[str]) -> str | None:
    """2,9 tỷ/3,1: hai phẩy chín tỷ trên ba phẩy một; 1.023/1.150: … trên …"""
    a, b, scale = match.group("a", "b", "s")
    if not (scale or _NOT_A_DATE.search(a) or _NOT_A_DATE.search(b)):
        # 9/7, 4/63: a date or a fraction, read by their own rules
        return None
    left = read_numeral(a) + (f" {scale}" if scale else "")
    return f"{left} {WORDS['over']} {read_numeral(b)}"


def _verbalize_per_number(match: re.Match[str]) -> str | None:
    """bác sĩ/10.000 dân: trên mười nghìn (dân); "Quý II/2021", "km/121": not ours."""
    word = _WORD_BEFORE.search(match.string, 0, match.start())
    number = match.group("b")
    if word is None or not word.group().islower() or word.group() in UNITS:
        # Quý II/2021 (a quarter), 85,6 km/121 km (the measure rule's)
        return None
    if _YEAR.fullmatch(number):
        # tháng/2021, số/2024: a year, not a count against a total
        return None
    return f"{WORDS['over']} {read_numeral(number)}"


RULES: tuple[Rule, ...] = (
    Rule("ratio", _RATIO, _verbalize, 199, frozenset("/")),
    Rule("ratio_per_number", _PER_NUMBER, _verbalize_per_number, 198, frozenset("/")),
)
