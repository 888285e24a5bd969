"""Convert Roman numeral strings to integers (no context, no reading).

A pure helper shared by the date rule (``Quý II/2021``) and anyone else who needs the
value of ``XVI``; deciding *whether* a capital ``I`` is a numeral belongs to the
context rule in ``roman.py``.
"""

from __future__ import annotations

import re

__all__ = ["roman_to_int"]

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
# Canonical (subtractive) spellings only, 1–3999: "IIII" or "VX" are rejected.
_CANONICAL = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")


def roman_to_int(text: str) -> int | None:
    """Return the value of an upper-case Roman numeral (``"XVI"`` → 16), else ``None``."""
    if not text or not _CANONICAL.fullmatch(text):
        return None
    total = 0
    for char, following in zip(text, [*text[1:], ""], strict=True):
        value = _VALUES[char]
        # IV: a smaller numeral before a larger one is subtracted
        total += -value if following and _VALUES[following] > value else value
    return total
