"""Rates written with a slash: đồng/kg, %/năm, tạ/ha, lượt xe/ngày, đồng/HTX/năm.

A slash between a quantity and what it is counted against reads "một" (one): "25.000
đồng/kg" hai mươi lăm nghìn đồng một ki lô gam, "7,2%/năm" bảy phẩy hai phần trăm một
năm, "95 người/km2" chín mươi lăm người một ki lô mét vuông. Only the slash and what
follows it are claimed here; the number and unit before it stay with the money and
measure rules.

What may follow the slash depends on what stands before it:

* after a unit, a currency or "%" (``đồng/HTX``), any word: units and currencies are
  read in full, abbreviations through the lexicon (HTX hợp tác xã);
* after any other word (``lượt xe/ngày``), only a unit, a currency or one of the
  counting and time words of ``data/measure/per_word.tsv``, so "Nam/Nữ" and "và/hoặc"
  are left alone.

Never read: a written unit that contains a slash ("km/h", "m/s", read by the measure
rule) and the date template "ngày/tháng/năm".

Priority 35: before abbreviations (40), which would claim the "HTX" of "đồng/HTX", and
before money and measures, whose match then ends at the slash.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_tsv
from tts_service.text.lexicon import Lexicon
from tts_service.text.rules.base import Rule
from tts_service.text.rules.context import char_before
from tts_service.text.rules.measure import UNITS
from tts_service.text.rules.money import CURRENCIES

__all__ = ["RULES", "read_per"]

# The word (or unit symbol) just before the slash, maybe spaced from it.
_LEFT = re.compile(r"([\w%‰°²³]+) ?$")
# The slash first, so that the regex engine only stops at slashes; a letter, a digit
# or "%" before it (one space allowed), a word after it. A digit is only accepted as
# the end of a written unit ("m3/ngày"), which _verbalize checks.
# At most _MAX_DENOMINATORS words after the slash ("đồng/HTX/năm" has two), taken whole
# (possessive); what follows is checked in _verbalize. An unbounded chain checked in the
# pattern was matched again to its end from every "/" of "b/b/b/…", quadratic in its length.
_MAX_DENOMINATORS = 6
_RATE = re.compile(
    r"/(?:(?<=(?:[^\W_]|[%‰²³])/)|(?<=(?:[^\W_]|[%‰²³]) /))"
    rf" ?(?P<chain>[^\W\d_]\w*+(?:/[^\W\d_]\w*+){{0,{_MAX_DENOMINATORS - 1}}}+)"
)
_CHAIN_END = re.compile(r"(?![\w&/])")
_DATE_WORDS = frozenset({"ngày", "tháng", "năm"})


@lru_cache(maxsize=1)
def _per_words() -> frozenset[str]:
    return frozenset(row[0] for row in load_tsv("measure/per_word.tsv"))


def _denominator(word: str, *, after_quantity: bool) -> str | None:
    """How ``word`` after the slash is read, or ``None`` when it is not a denominator."""
    known = UNITS.get(word) or CURRENCIES.get(word)
    if known is not None:
        return known
    if not word.isalpha():
        # km0: digits are only part of a written unit (m2, km2)
        return None
    if word.lower() in _per_words():
        # tấn/ngày: một ngày
        return word
    if after_quantity and len(word) >= 2:
        # đồng/HTX: một hợp tác xã; đồng/lượng: một lượng
        return Lexicon.builtin().read(word) or word
    return None


def read_per(left: str, chain: str, *, counted: bool = False) -> str | None:
    """``("đồng", "người/tháng")`` → "một người một tháng"; ``None`` if not a rate.

    ``counted``: a number stands before ``left`` ("9 tháng/năm học"), so two date words
    are a rate, not the template "ngày/tháng/năm".
    """
    words = chain.split("/")
    if f"{left}/{words[0]}" in UNITS:
        # km/h: a unit of its own, read by the measure rule
        return None
    if not counted and left.lower() in _DATE_WORDS and words[0].lower() in _DATE_WORDS:
        # ngày/tháng/năm sinh: a template, not a rate; "9 tháng/năm học" is one
        return None
    after_quantity = left in UNITS or left in CURRENCIES
    readings = [_denominator(word, after_quantity=after_quantity) for word in words]
    if any(reading is None for reading in readings):
        return None
    return " ".join(f"một {reading}" for reading in readings)


def _verbalize(match: re.Match[str]) -> str | None:
    """đồng/kg: một ki lô gam; tạ/ha: một héc ta; Nam/Nữ: not ours."""
    if _CHAIN_END.match(match.string, match.end()) is None:
        # đồng/kg&, or a chain of more words than any rate has
        return None
    left = _LEFT.search(match.string, max(0, match.start() - 20), match.start())
    if left is None or (left.group(1)[-1].isdigit() and left.group(1) not in UNITS):
        # 24/ngày, 12/HTX: a number, not a unit, before the slash
        return None
    counted = char_before(match.string, left.start(1)).isdigit()
    return read_per(left.group(1), match.group("chain"), counted=counted)


RULES: tuple[Rule, ...] = (Rule("per", _RATE, _verbalize, 35, frozenset("/")),)
