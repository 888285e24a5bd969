"""Telephone numbers: 0912 345 678, 0912.345.678, 0912345678, +84 912 345 678, (0205) 3812 345.

A phone number is read digit by digit, group by group, with a pause (a comma) between
the groups as written: "không chín một hai, ba bốn năm, sáu bảy tám". An unbroken
number is grouped the way Vietnamese numbers are said: mobiles 4-3-3 (0912 345 678),
Hà Nội and Hồ Chí Minh City landlines 3-4-4 (024 3825 1234), other landlines 4-4-3
(0205 3812 345). A local number has 10 or 11 digits; after +84 it has 9 or 10. Hotlines
1800/1900 have 8 or 10 digits (1900 1234 một chín không không, một hai ba bốn).

Service numbers of three or four digits starting with 1 (113, 114, 115, 1022) are read
digit by digit too, but only after a word that announces a number to call ("gọi 115"
một một năm, "tổng đài 1022" một không hai hai; ``data/phone_context.tsv``): elsewhere
"115" is a hundred and fifteen.

Priority: ``phone`` 200 — first of the numeric rules, so a number like 0912.345.678 is
never read as a date, a range or an amount; ``phone_service`` 201.
"""

from __future__ import annotations

import re

from tts_service.text.data import load_tsv
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import WORDS, read_digits
from tts_service.text.rules.context import text_before

__all__ = ["RULES", "read_phone"]

_PHONE = re.compile(
    # "0912.345.678/0205.3812.345": a slash may separate two numbers
    r"(?=[0-9(+])(?<![\w+.,-])(?<![^0-9]/)"
    r"(?P<cc>\(\+84\)|\+84)?\s?"
    r"(?P<body>\(0[0-9]{2,3}\)|0?[0-9]{2,4})(?:[ .-]?[0-9]{2,4}){1,3}"
    r"(?![0-9]|[.,-][0-9])"
)
_GROUP = re.compile(r"[0-9]+")
_SERVICE = re.compile(r"(?<![\w+.,/-])1[0-9]{2,3}(?![0-9]|[.,/-][0-9]|[^\W\d_])")
_CALL_WORDS = "|".join(re.escape(row[0]) for row in load_tsv("phone_context.tsv"))
# "gọi ngay số ", "tổng đài ": the words before a service number.
_CALL = re.compile(rf"(?<!\w)(?:{_CALL_WORDS})(?:\s+(?:ngay|số|máy))*\s+$", re.IGNORECASE)


def _default_groups(digits: str) -> list[str]:
    """Split an unbroken local number as it is said aloud."""
    if len(digits) == 10 and digits.startswith("02"):
        # 0241234567, an old ten-digit landline: không hai bốn, một hai ba, bốn năm sáu bảy
        sizes = [3, 3, 4]
    elif len(digits) == 10:
        # 0912345678: không chín một hai, ba bốn năm, sáu bảy tám
        sizes = [4, 3, 3]
    elif digits.startswith(("024", "028")):
        # 02438251234: không hai bốn, ba tám hai năm, một hai ba bốn
        sizes = [3, 4, 4]
    else:
        # 02053812345: không hai không năm, ba tám một hai, ba bốn năm
        sizes = [4, 4, 3]
    groups, start = [], 0
    for size in sizes:
        groups.append(digits[start : start + size])
        start += size
    return groups


def read_phone(text: str) -> str | None:
    """Read a written phone number, or ``None`` when it has the wrong number of digits."""
    if text.startswith(("1800", "1900")):
        return _read_hotline(text)
    country = ""
    if "+84" in text:
        country = f"{WORDS['plus']} {read_digits('84')}, "
        text = text.replace("+84", "", 1)
    groups = _GROUP.findall(text)
    digits = "".join(groups)
    if country:
        if len(digits) not in (9, 10) or digits.startswith("0"):
            return None
    elif len(digits) not in (10, 11) or not digits.startswith("0"):
        return None
    if len(groups) == 1 and not country:
        groups = _default_groups(digits)
    elif len(groups) == 1:
        # +84912345678: cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám
        groups = [digits[:3], digits[3:6], digits[6:]]
    return country + ", ".join(read_digits(group) for group in groups)


def _read_hotline(text: str) -> str | None:
    """1900 1234, 1800 599 920: a toll-free or premium number of 8 or 10 digits."""
    groups = _GROUP.findall(text)
    digits = "".join(groups)
    if len(digits) not in (8, 10) or "-" in text:
        # 1900-2000 is a range of years, not a hotline
        return None
    if len(groups) == 1:
        # 19001234: một chín không không, một hai ba bốn
        groups = (
            [digits[:4], digits[4:]] if len(digits) == 8 else [digits[:4], digits[4:7], digits[7:]]
        )
    return ", ".join(read_digits(group) for group in groups)


def _verbalize(match: re.Match[str]) -> str | None:
    """(0205) 3812 345: không hai không năm, ba tám một hai, ba bốn năm."""
    # Only the word before is needed; slicing the sentence made 20,000 numbers quadratic.
    before = text_before(match.string, match.start(), len("năm")).lower()
    if match.group().startswith(("1800", "1900")) and before.endswith("năm"):
        # năm 1900 1234: a year and a count, however unlikely, never a hotline
        return None
    return read_phone(match.group())


def _verbalize_service(match: re.Match[str]) -> str | None:
    """gọi 115: một một năm; tổng đài 1022: một không hai hai; "115 hộ": not ours."""
    if _CALL.search(match.string, max(0, match.start() - 30), match.start()) is None:
        return None
    return read_digits(match.group())


RULES: tuple[Rule, ...] = (
    Rule("phone", _PHONE, _verbalize, 200, ASCII_DIGITS),
    Rule("phone_service", _SERVICE, _verbalize_service, 201, ASCII_DIGITS),
)
