"""Ordinals after thứ, hạng, giải: thứ 2 thứ hai, thứ 1 thứ nhất, thứ 4 thứ tư, hạng 3.

Vietnamese ordinals are cardinals after the word "thứ" except for one and four
(``data/numbers/ordinal_special.tsv``): thứ nhất, thứ tư, hạng nhất, hạng tư; but
thứ mười một, thứ mười bốn, thứ hai mươi tư. The leading word is absorbed and read in
lower case, and a weekday range "thứ 2-6" reads "thứ hai đến thứ sáu".

Priority: ``ordinal`` 245 — after dates, times, money and measures, before bare ranges
(so "thứ 2-6" is one unit), fractions and plain numbers.
"""

from __future__ import annotations

import re

from tts_service.text.data import load_map
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import WORDS, read_number

__all__ = ["RULES", "read_ordinal"]

_SPECIAL: dict[str, str] = load_map("numbers/ordinal_special.tsv")

_INT = r"[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+"
_ORDINAL = re.compile(
    rf"(?=[tThHgG])\b(?P<w>(?i:thứ|hạng|giải))\s+(?P<n>{_INT})(?:\s*[-–—]\s*(?P<n2>{_INT}))?"
    r"(?![0-9]|[.,/:][0-9]|[^\W\d_])"
)


def read_ordinal(digits: str) -> str:
    """``"1"`` → "nhất", ``"4"`` → "tư", ``"14"`` → "mười bốn" (the word after "thứ")."""
    digits = digits.replace(".", "").lstrip("0") or "0"
    return _SPECIAL.get(digits, read_number(digits))


def _verbalize(match: re.Match[str]) -> str:
    """thứ 2: thứ hai; Hạng 1: hạng nhất; thứ 2-6: thứ hai đến thứ sáu."""
    word = match.group("w").lower()
    reading = f"{word} {read_ordinal(match.group('n'))}"
    if match.group("n2"):
        reading += f" {WORDS['range']} {word} {read_ordinal(match.group('n2'))}"
    return reading


RULES: tuple[Rule, ...] = (Rule("ordinal", _ORDINAL, _verbalize, 245, ASCII_DIGITS),)
