"""Marks with no reading never reach the voice: each ``/ _ | # * ~ ^`` left is dropped.

Every other rule runs first: a URL reads its "/" ("gạch chéo"), a legal code its "/"
(15/2021/NĐ-CP), "đồng/kg" is "một ki lô gam", "#1" is "số một", "~5" is "khoảng năm".
What is left is layout or noise: "Nam/Nữ", "và/hoặc", "từ_khóa", "A | B", "ghi chú*",
"m^2" written by hand. The engines would say "gạch chéo" or "sao" there, or stop on the
mark; the rule drops it, as a space, so the words on each side stay apart: "từ_khóa" →
"từ khóa".

A slash between two words that no rate took ("học sinh/sinh viên", "Nam/Nữ") is a short
pause instead: it joins two alternatives or two groups named together, and run on
("học sinh sinh viên") they sound like one; a newsreader says "học sinh, sinh viên".
"hoặc" would be wrong as often as right ("ngày/tháng/năm sinh" is a list). Between two
conjunctions (``data/conjunctions.tsv``) it is silent: "và/hoặc" is one phrase.

Priorities 949 and 950, after the symbol readings (900).
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_tsv
from tts_service.text.rules.base import Rule
from tts_service.text.rules.context import word_after, word_before

__all__ = ["MARKS", "RULES"]

#: The marks this rule drops when no other rule has read them.
MARKS = "/_|#*~^"

_MARK = re.compile(f"[{re.escape(MARKS)}]+")


_SLASH = re.compile(r" ?/ ?")


@lru_cache(maxsize=1)
def _conjunctions() -> frozenset[str]:
    return frozenset(row[0] for row in load_tsv("conjunctions.tsv"))


def _verbalize(match: re.Match[str]) -> str:  # noqa: ARG001
    """từ_khóa: từ khóa (the mark is silent)."""
    return ""


def _verbalize_slash(match: re.Match[str]) -> str | None:
    """học sinh/sinh viên: học sinh, sinh viên; a slash not between two words: not ours."""
    text = match.string
    before = text[match.start() - 1] if match.start() else ""
    after = text[match.end()] if match.end() < len(text) else ""
    if not (before.isalpha() and after.isalpha()):
        return None
    left, right = word_before(text, match.start()), word_after(text, match.end())
    if left is not None and right is not None and {left.lower(), right.lower()} <= _conjunctions():
        # và/hoặc: và hoặc, one phrase
        return ""
    return ","


RULES: tuple[Rule, ...] = (
    Rule("slash_pause", _SLASH, _verbalize_slash, 949, frozenset("/")),
    Rule("stray_symbol", _MARK, _verbalize, 950, frozenset(MARKS)),
)
