"""Clock times: 14h30, 14h30', 8h, 7g30, 14:30, 14:30:15, 8 giờ 15 and ranges of them.

A written minute count is read with "phút" (14h30 mười bốn giờ ba mươi phút); zero
minutes are silent (8h00 tám giờ). In "8 giờ 15" nobody wrote "phút", so none is added.
Hours run 0–24 and minutes 00–59; anything else is left to the measure and cardinal
rules (100h một trăm giờ). ``H:MM`` after "tỷ lệ"/"tỷ số" is a ratio, not a time.

Priority: ``time`` 220 — after dates (205–213), before money, measures and plain numbers.
"""

from __future__ import annotations

import re

from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import WORDS, read_number
from tts_service.text.rules.context import text_before

__all__ = ["RULES", "read_time"]

_RATIO_WORDS = ("tỷ lệ", "tỉ lệ", "tỷ số", "tỉ số")
_RATIO_WIDTH = max(len(word) for word in _RATIO_WORDS)


def _clock(tag: str) -> str:
    """One written time; its named groups end in ``tag`` so two can share a pattern."""
    hour = rf"(?P<h{tag}>[01]?[0-9]|2[0-4])"
    return (
        # 14h30, 14h30', 14 h 30, 7g30, 8h
        rf"{hour}\s?(?:h|g(?=\s?[0-5][0-9]))(?:\s?(?P<m{tag}>[0-5][0-9])(?:'|’|\s?ph\b)?)?"
        rf"(?![^\W\d_]|[0-9])"
        # 14:30, 14:30:15
        rf"|(?P<c{tag}>[01]?[0-9]|2[0-3]):(?P<n{tag}>[0-5][0-9])(?::(?P<s{tag}>[0-5][0-9]))?"
        rf"(?![0-9]|:[0-9])"
        # 8 giờ 15 (phút), 8 giờ
        rf"|(?P<g{tag}>[01]?[0-9]|2[0-4])\s+giờ(?:\s+(?P<x{tag}>[0-5]?[0-9])(?![0-9])"
        rf"(?P<p{tag}>\s+phút)?)?"
    )


_TIME = re.compile(
    rf"(?=[0-9])(?<![\w.,:/])(?:{_clock('1')})(?:\s*[-–—]\s*(?:{_clock('2')}))?(?![,.][0-9])"
)


def read_time(hour: str, minute: str | None = None, second: str | None = None) -> str:
    """``("14", "30")`` → "mười bốn giờ ba mươi phút"; zero minutes and seconds are silent."""
    words = [read_number(hour), "giờ"]
    if minute and int(minute):
        words += [read_number(minute), "phút"]
    if second and int(second):
        words += [read_number(second), "giây"]
    return " ".join(words)


def _read_one(match: re.Match[str], tag: str) -> str:
    """Read the time whose groups end in ``tag``, whichever written form it took."""
    if match.group(f"h{tag}"):
        # 14h30: mười bốn giờ ba mươi phút; 8h: tám giờ
        return read_time(match.group(f"h{tag}"), match.group(f"m{tag}"))
    if match.group(f"c{tag}"):
        # 14:30:15: mười bốn giờ ba mươi phút mười lăm giây
        return read_time(match.group(f"c{tag}"), match.group(f"n{tag}"), match.group(f"s{tag}"))
    # 8 giờ 15: tám giờ mười lăm; 8 giờ 15 phút: tám giờ mười lăm phút
    words = [read_number(match.group(f"g{tag}")), "giờ"]
    if match.group(f"x{tag}"):
        words.append(read_number(match.group(f"x{tag}")))
        if match.group(f"p{tag}"):
            words.append("phút")
    return " ".join(words)


def _verbalize(match: re.Match[str]) -> str | None:
    """14h30 - 16h: mười bốn giờ ba mươi phút đến mười sáu giờ."""
    before = text_before(match.string, match.start(), _RATIO_WIDTH)
    if match.group("c1") and before.lower().endswith(_RATIO_WORDS):
        # tỷ lệ 1:50 is a ratio, read by the fraction rule
        return None
    reading = _read_one(match, "1")
    if match.group("h2") or match.group("c2") or match.group("g2"):
        reading += f" {WORDS['range']} {_read_one(match, '2')}"
    return reading


RULES: tuple[Rule, ...] = (Rule("time", _TIME, _verbalize, 220, ASCII_DIGITS),)
