"""Dates: 09/7/2021, 9-7-2021, ngày 09/7, tháng 7/2021, năm 2021, Quý II/2021 and ranges.

A date reading always names its parts once: "ngày chín tháng bảy năm hai nghìn không
trăm hai mươi mốt". A written "ngày", "tháng", "năm", "quý" (or "từ … đến") in front of
the numbers is absorbed into the match, so it is never said twice. Absorbed words are
read in lower case. Days must be 1–31 and months 1–12, so ``4/63`` stays a fraction; a
day/month without a year (``9/7``) is only a date after a word such as "ngày", "sáng",
"từ" (``data/date/day_context.tsv``), a weekday or an opening bracket.

Priorities: ``date_quarter`` 205, ``date_span`` 206 (30/6 - 2/7/2021), ``date_day_range``
207 (8-9/7, từ 8 đến 10/7), ``date`` 208 (09/7/2021), ``date_month_range`` 209
(tháng 7-8/2021), ``date_month_year`` 210 (7/2021), ``date_day_month`` 211 (ngày 9/7),
``date_month`` 212 (tháng 4), ``date_year`` 213 (năm 2021-2025). Phone numbers (200)
come first; times, money and all plain numbers come after.
"""

from __future__ import annotations

import re

from tts_service.text.data import load_tsv
from tts_service.text.rules.base import Rule
from tts_service.text.rules.cardinal import WORDS, read_number
from tts_service.text.rules.roman_numeral import roman_to_int

__all__ = ["MONTHS", "RULES", "read_day_month"]

#: Month number → name after "tháng": 4 → "tư", 12 → "mười hai".
MONTHS: dict[int, str] = {int(m): name for m, name in load_tsv("date/month.tsv")}
_DAY_CONTEXT = frozenset(row[0] for row in load_tsv("date/day_context.tsv"))
_WEEKDAYS = frozenset({"hai", "ba", "tư", "năm", "sáu", "bảy", "nhật"})
_TO = WORDS["range"]
# A day/month just before, in a list: the 10/7 of "ngày 9/7, 10/7" is a date too.
_LISTED_DATE = re.compile(r"[0-9]{1,2}/[0-9]{1,2}[,;]")

_D = r"(?:0?[1-9]|[12][0-9]|3[01])"
_M = r"(?:0?[1-9]|1[0-2])"
_Y = r"[12][0-9]{3}"
_DASH = r"\s*[-–—]\s*"
# Not glued to a code or a number: 123/2021/NĐ-CP and 1.250.000 are no dates.
_START = r"(?<![\w/.,-])"
_END = r"(?![0-9]|[/-][0-9A-Za-zĐđ]|\.[0-9])"
_DAY_PREFIX = r"(?P<pre>\b(?i:ngày)\s+(?:(?i:mùng|mồng)\s+)?|\b(?i:mùng|mồng)\s+)?"


def _dm(tag: str, sep: str = "/") -> str:
    """A day/month group such as ``9/7``, with named groups ``d<tag>`` and ``m<tag>``."""
    return rf"(?P<d{tag}>{_D}){sep}(?P<m{tag}>{_M})"


def read_day_month(day: str, month: str, *, prefix: str = "ngày") -> str:
    """``("09", "4")`` → "ngày chín tháng tư"; ``prefix`` is said before the day."""
    return _join(prefix, read_number(day), "tháng", MONTHS[int(month)])


def _year(year: str | None) -> str:
    """`` năm hai nghìn …`` for a written year, else nothing."""
    return f" năm {read_number(year)}" if year else ""


def _prefix(match: re.Match[str]) -> str:
    """The absorbed "ngày"/"mùng" words in lower case, or "ngày" when none was written.

    After "hôm" the day needs no "ngày": hôm 20/6 hôm hai mươi tháng sáu.
    """
    written = match.group("pre")
    if written:
        return " ".join(written.lower().split())
    return "" if _previous_words(match)[-1:] == ["hôm"] else "ngày"


def _previous_words(match: re.Match[str]) -> list[str]:
    """The last few words before the match, in lower case."""
    return match.string[max(0, match.start() - 30) : match.start()].lower().split()


def _has_context(match: re.Match[str]) -> bool:
    """Whether a yearless day/month is a date: written "ngày", a time word or a weekday."""
    if match.group("pre") or match.string[: match.start()].rstrip().endswith("("):
        return True
    words = _previous_words(match)
    if words and (words[-1] in _DAY_CONTEXT or _LISTED_DATE.fullmatch(words[-1])):
        # Sáng 9/7, từ 8/7 đến 10/7; ngày 9/7, 10/7
        return True
    # thứ Sáu 9/7, Chủ nhật 10/7
    return len(words) >= 2 and words[-2] in {"thứ", "chủ"} and words[-1] in _WEEKDAYS


def _join(*parts: str) -> str:
    """Join non-empty reading parts with single spaces."""
    return " ".join(part for part in parts if part)


_QUARTER = re.compile(
    rf"(?=[qQ])\b(?i:quý)\s+(?P<q>[1-4]|IV|I{{1,3}})(?![\w])"
    rf"(?:\s*[/-]\s*(?P<y>{_Y})|\s+(?i:năm)\s+(?P<y2>{_Y}))?{_END}"
)


def _verbalize_quarter(match: re.Match[str]) -> str:
    """Quý II/2021: quý hai năm hai nghìn không trăm hai mươi mốt."""
    quarter = match.group("q")
    number = int(quarter) if quarter.isdigit() else roman_to_int(quarter)
    return f"quý {read_number(str(number))}{_year(match.group('y') or match.group('y2'))}"


_SPAN = re.compile(
    rf"(?=[0-9nNmM]){_DAY_PREFIX}{_START}{_dm('1')}(?:/(?P<y1>{_Y}))?{_DASH}"
    rf"(?:(?i:ngày)\s+)?{_dm('2')}(?:/(?P<y2>{_Y}))?{_END}"
)


def _verbalize_span(match: re.Match[str]) -> str:
    """30/6 - 2/7/2021: ngày ba mươi tháng sáu đến ngày hai tháng bảy năm …"""
    first = read_day_month(match.group("d1"), match.group("m1"), prefix=_prefix(match))
    second = read_day_month(match.group("d2"), match.group("m2"))
    return f"{first}{_year(match.group('y1'))} {_TO} {second}{_year(match.group('y2'))}"


_DAY_RANGE = re.compile(
    rf"(?=[0-9nNmMtT])(?:(?P<from>\b(?i:từ)\s+(?:(?i:ngày)\s+)?)(?P<a1>{_D})\s+(?i:đến|tới)\s+(?:(?i:ngày)\s+)?"
    rf"|{_DAY_PREFIX}{_START}(?P<a2>{_D}){_DASH})"
    rf"(?P<d>{_D})/(?P<m>{_M})(?:/(?P<y>{_Y}))?{_END}"
)


def _verbalize_day_range(match: re.Match[str]) -> str | None:
    """ngày 8-9/7: ngày tám đến ngày chín tháng bảy; từ 8 đến 10/7: từ ngày tám đến …"""
    tail = f"{_TO} {read_day_month(match.group('d'), match.group('m'))}{_year(match.group('y'))}"
    if match.group("from"):
        # từ 8 đến 10/7/2021: từ ngày tám đến ngày mười tháng bảy năm …
        return f"từ ngày {read_number(match.group('a1'))} {tail}"
    if not (match.group("y") or _has_context(match)):
        return None
    return _join(_prefix(match), read_number(match.group("a2")), tail)


_FULL = re.compile(
    rf"(?=[0-9nNmM]){_DAY_PREFIX}{_START}(?P<d>{_D})(?P<sep>[/.-])(?P<m>{_M})(?P=sep)(?P<y>{_Y}){_END}"
)


def _verbalize_full(match: re.Match[str]) -> str:
    """Ngày 09/7/2021 or 9-7-2021: ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt."""
    day_month = read_day_month(match.group("d"), match.group("m"), prefix=_prefix(match))
    return day_month + _year(match.group("y"))


_MONTH_RANGE = re.compile(
    rf"(?=[0-9tT])(?:\b(?i:tháng)\s+(?P<m1>{_M}){_DASH}(?P<m2>{_M})(?:\s*/\s*(?P<y>{_Y}))?"
    rf"|{_START}(?P<n1>{_M}){_DASH}(?P<n2>{_M})/(?P<z>{_Y})){_END}"
)


def _verbalize_month_range(match: re.Match[str]) -> str:
    """tháng 7-8/2021: tháng bảy đến tháng tám năm hai nghìn không trăm hai mươi mốt."""
    first, second = match.group("m1") or match.group("n1"), match.group("m2") or match.group("n2")
    reading = f"tháng {MONTHS[int(first)]} {_TO} tháng {MONTHS[int(second)]}"
    return reading + _year(match.group("y") or match.group("z"))


_MONTH_YEAR = re.compile(
    rf"(?=[0-9tT])(?:\b(?i:tháng)\s+(?P<m1>{_M})(?:\s*[/-]\s*|\s+(?i:năm)\s+)|{_START}(?P<m2>{_M})/)"
    rf"(?P<y>{_Y}){_END}"
)


def _verbalize_month_year(match: re.Match[str]) -> str:
    """tháng 7/2021 or 7/2021: tháng bảy năm hai nghìn không trăm hai mươi mốt."""
    month = match.group("m1") or match.group("m2")
    return f"tháng {MONTHS[int(month)]}{_year(match.group('y'))}"


_DAY_MONTH = re.compile(
    rf"(?=[0-9nNmM]){_DAY_PREFIX}{_START}(?:{_dm('')}|(?<=\s)(?P<dx>{_D})[.-](?P<mx>{_M})(?=[\s,;:)]|$)){_END}"
)


def _verbalize_day_month(match: re.Match[str]) -> str | None:
    """ngày 09/7: ngày chín tháng bảy; Sáng 9/7: (sáng) ngày chín tháng bảy."""
    if match.group("d"):
        if not _has_context(match):
            # 4/63 tỉnh, thành phố: a fraction, left to the fraction rule
            return None
        return read_day_month(match.group("d"), match.group("m"), prefix=_prefix(match))
    if not match.group("pre") or "ngày" not in match.group("pre").lower():
        # 9-7 or 9.7 is a date only right after "ngày": ngày 9-7 ngày chín tháng bảy
        return None
    return read_day_month(match.group("dx"), match.group("mx"), prefix=_prefix(match))


_MONTH = re.compile(rf"(?=[tT])\b(?i:tháng)\s+(?P<m>{_M})(?![0-9]|[.,/-][0-9])")


def _verbalize_month(match: re.Match[str]) -> str:
    """tháng 4: tháng tư (never tháng bốn); tháng 12: tháng mười hai."""
    return f"tháng {MONTHS[int(match.group('m'))]}"


_YEAR = re.compile(rf"(?=[nN])\b(?i:năm)\s+(?P<y1>{_Y})(?:{_DASH}(?P<y2>{_Y}))?{_END}")


def _verbalize_year(match: re.Match[str]) -> str:
    """năm 2021: năm hai nghìn không trăm hai mươi mốt; năm 2021-2025: … đến …"""
    reading = f"năm {read_number(match.group('y1'))}"
    if match.group("y2"):
        reading += f" {_TO} {read_number(match.group('y2'))}"
    return reading


RULES: tuple[Rule, ...] = (
    Rule("date_quarter", _QUARTER, _verbalize_quarter, 205),
    Rule("date_span", _SPAN, _verbalize_span, 206),
    Rule("date_day_range", _DAY_RANGE, _verbalize_day_range, 207),
    Rule("date", _FULL, _verbalize_full, 208),
    Rule("date_month_range", _MONTH_RANGE, _verbalize_month_range, 209),
    Rule("date_month_year", _MONTH_YEAR, _verbalize_month_year, 210),
    Rule("date_day_month", _DAY_MONTH, _verbalize_day_month, 211),
    Rule("date_month", _MONTH, _verbalize_month, 212),
    Rule("date_year", _YEAR, _verbalize_year, 213),
)
