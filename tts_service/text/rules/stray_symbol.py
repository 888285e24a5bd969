"""Marks with no reading never reach the voice: each ``/ _ | # * ~ ^`` left is dropped.

Every other rule runs first: a URL reads its "/" ("gạch chéo"), a legal code its "/"
(15/2021/NĐ-CP), "đồng/kg" is "một ki lô gam", "#1" is "số một", "~5" is "khoảng năm".
What is left is layout or noise: "Nam/Nữ", "và/hoặc", "từ_khóa", "A | B", "ghi chú*",
"m^2" written by hand. The engines would say "gạch chéo" or "sao" there, or stop on the
mark; the rule drops it, as a space, so the words on each side stay apart: "và/hoặc" →
"và hoặc".

Priority 950, after the symbol readings (900).
"""

from __future__ import annotations

import re

from tts_service.text.rules.base import Rule

__all__ = ["MARKS", "RULES"]

#: The marks this rule drops when no other rule has read them.
MARKS = "/_|#*~^"

_MARK = re.compile(f"[{re.escape(MARKS)}]+")


def _verbalize(match: re.Match[str]) -> str:  # noqa: ARG001
    """và/hoặc: và hoặc (the slash is silent)."""
    return ""


RULES: tuple[Rule, ...] = (Rule("stray_symbol", _MARK, _verbalize, 950, frozenset(MARKS)),)
