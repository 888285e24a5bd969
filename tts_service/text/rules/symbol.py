"""Symbols said as words: "&" → "và", "%" → "phần trăm", "~50" → "khoảng năm mươi".

Readings and contexts come from ``data/symbols.tsv`` (see :mod:`tts_service.text.symbols`):
``any`` symbols are always read; ``between`` ones ("+", "=", ">") only between two terms
spaced alike ("2 + 3", "2+3", not the "+A" of a font-size button); ``number`` ones only
before a number ("#1" → "số một").

Priority 900, the last rule: "12,5%" (measure), "R&D" (acronym) and "KH&ĐT"
(abbreviation) are read whole by their own rules first.
"""

from __future__ import annotations

import re

from tts_service.text.rules.base import Rule
from tts_service.text.rules.context import char_after, char_before
from tts_service.text.symbols import symbol_readings

__all__ = ["RULES"]


def _verbalize(match: re.Match[str]) -> str | None:
    """& và; ~ khoảng; 2 + 3: cộng; "+A": not read; #1: số."""
    reading, context = symbol_readings()[match.group()]
    text = match.string
    # Neighbours found by walking over the spaces only: "&" × 20,000 stays linear.
    before = char_before(text, match.start())
    after = char_after(text, match.end())
    spaced_before = text[match.start() - 1 : match.start()].isspace()
    spaced_after = text[match.end() : match.end() + 1].isspace()
    if context == "between" and not (
        before.isalnum() and after.isalnum() and spaced_before == spaced_after
    ):
        # "A +A" (font-size buttons): glued to one side only, so a sign, not a sum
        return None
    if context == "number" and not after.isdigit():
        # "#" before a word is a hashtag or noise, not "số"
        return None
    return reading


_PATTERN = re.compile(
    "|".join(re.escape(s) for s in sorted(symbol_readings(), key=len, reverse=True))
)

# Only the first character of each symbol: a sentence with none of them has none.
_FIRSTS = frozenset(symbol[0] for symbol in symbol_readings())

RULES: tuple[Rule, ...] = (Rule("symbol", _PATTERN, _verbalize, 900, _FIRSTS),)
