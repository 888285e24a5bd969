"""Amounts of money: 12.500.000đ, 12.500.000 đồng, 3,5 triệu đồng, 100 USD, $100, VNĐ.

Currencies and their readings live in ``data/money/currency.tsv``; a third column marks
symbols that may also stand before the number ($100 một trăm đô la). Scale words
(nghìn, triệu, tỷ) between number and currency stay in the reading, a range shares the
currency (10-15 triệu đồng mười đến mười lăm triệu đồng); what a price is "per"
(25.000 đồng/kg … đồng một ki lô gam) is read by :mod:`.per`. A currency code on its
own (đơn vị tính: VNĐ) is read "Việt Nam đồng".

Priorities: ``money`` 230 and ``money_code`` 231 — after dates and times, before
measures, ranges and plain numbers.
"""

from __future__ import annotations

import re

from tts_service.text.data import load_tsv
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import NUMERAL, NUMERAL_START, WORDS, read_numeral
from tts_service.text.rules.measure import SCALE_WORDS

__all__ = ["CURRENCIES", "RULES"]

_ROWS = load_tsv("money/currency.tsv")
#: Written currency → reading, e.g. ``"USD"`` → "đô la Mỹ".
CURRENCIES: dict[str, str] = {row[0]: row[1] for row in _ROWS}
_PREFIXES = [row[0] for row in _ROWS if row[2:] == ["prefix"]]


def _alternation(items: list[str]) -> str:
    """A regex alternation of literal strings, longest first."""
    return "|".join(re.escape(item) for item in sorted(items, key=len, reverse=True))


_NO_LETTER = r"(?![^\W\d_])"
_SCALES = r"(?:\s+(?:" + "|".join(SCALE_WORDS) + rf"){_NO_LETTER})*"

_MONEY = re.compile(
    # 12.500.000đ, 3,5 triệu đồng, 10-15 triệu USD
    rf"(?=[-−0-9$€£¥U])(?:(?P<n1>{NUMERAL_START}{NUMERAL})(?:\s*[-–—]\s*(?P<n2>{NUMERAL}))?(?P<s1>{_SCALES})"
    rf"\s*(?P<c1>{_alternation(list(CURRENCIES))}){_NO_LETTER}"
    # $100, $1,5 tỷ, €20
    rf"|(?<![\w$€£¥])(?P<c2>{_alternation(_PREFIXES)})\s?(?P<n3>{NUMERAL})(?P<s2>{_SCALES})"
    rf"(?![0-9]))"
)
_CODE = re.compile(r"(?=V)(?<![\w/])(?:VNĐ|VND)(?![\w/])")


def _verbalize(match: re.Match[str]) -> str:
    """12.500.000đ: mười hai triệu năm trăm nghìn đồng; $100: một trăm đô la."""
    if match.group("c2"):
        # $1,5 tỷ: một phẩy năm tỷ đô la
        words = [read_numeral(match.group("n3")), *match.group("s2").split()]
        return " ".join([*words, CURRENCIES[match.group("c2")]])
    words = [read_numeral(match.group("n1"))]
    if match.group("n2"):
        # 10-15 triệu đồng: mười đến mười lăm triệu đồng
        words += [WORDS["range"], read_numeral(match.group("n2"))]
    words += [*match.group("s1").split(), CURRENCIES[match.group("c1")]]
    return " ".join(words)


def _verbalize_code(_match: re.Match[str]) -> str:
    """Đơn vị tính: VNĐ: đơn vị tính: Việt Nam đồng."""
    return "Việt Nam đồng"


RULES: tuple[Rule, ...] = (
    Rule("money", _MONEY, _verbalize, 230, ASCII_DIGITS),
    Rule("money_code", _CODE, _verbalize_code, 231),
)
