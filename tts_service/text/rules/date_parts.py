"""What the date rules share: the written parts of a date and the words around it.

A date reading always names its parts once: "ngày chín tháng bảy năm hai nghìn không
trăm hai mươi mốt". A written "ngày" or "mùng" in front of the numbers is absorbed into
the match (:data:`DAY_PREFIX`), so it is never said twice, and read in lower case. Days
must be 1–31 and months 1–12, so ``4/63`` stays a fraction; a day/month without a year
(``9/7``) is only a date after a word such as "ngày", "sáng", "từ"
(``data/date/day_context.tsv``), a weekday or an opening bracket, or in a name
("Quốc khánh 2/9", "Quảng trường 17/10", ``data/date/name_context.tsv``), where no
"ngày" is added (:func:`has_context`, :func:`prefix`).

A two-digit year (``09/7/21``) is read in full, 00–34 as 2000–2034 and 35–99 as
1935–1999 (news dates are recent, or historical: 2/9/45 is 1945). Before "âm lịch"
(lunar calendar) months 1 and 12 have their lunar names, "tháng giêng" and "tháng
chạp" (``data/date/lunar_month.tsv``): "tháng một âm lịch" would be the eleventh month.
"""

from __future__ import annotations

import re

from tts_service.text.data import load_tsv
from tts_service.text.rules.cardinal import WORDS, read_number
from tts_service.text.rules.context import char_before

__all__ = [
    "DASH",
    "DAY",
    "DAY_PREFIX",
    "END",
    "MONTH",
    "MONTHS",
    "START",
    "TO",
    "YEAR",
    "after_part_word",
    "day_month_pattern",
    "has_context",
    "is_lunar",
    "join",
    "month_name",
    "prefix",
    "previous_words",
    "read_day_month",
    "read_year",
]

#: Month number → name after "tháng": 4 → "tư", 12 → "mười hai".
MONTHS: dict[int, str] = {int(m): name for m, name in load_tsv("date/month.tsv")}
_LUNAR_MONTHS: dict[int, str] = {int(m): name for m, name in load_tsv("date/lunar_month.tsv")}
_DAY_CONTEXT = frozenset(row[0] for row in load_tsv("date/day_context.tsv"))
_PART_WORDS = frozenset(row[0] for row in load_tsv("date/part_word.tsv"))
_NAME_WORDS = (
    re.escape(row[0]).replace(r"\ ", r"\s+") for row in load_tsv("date/name_context.tsv")
)
# "Quốc khánh 2/9", "Quảng trường 17/10": a date in a name, read without "ngày"; but
# "hàm lượng đường 1/5" is sugar, a fraction.
_NAME_CONTEXT = re.compile(rf"(?<!\w)(?<!lượng )(?:{'|'.join(_NAME_WORDS)})\s+$", re.IGNORECASE)
_LUNAR = re.compile(r"\s*\(?(?:(?i:âm\s+lịch)|AL\b)")
_WEEKDAYS = frozenset({"hai", "ba", "tư", "năm", "sáu", "bảy", "nhật"})
# A day/month just before, in a list: the 10/7 of "ngày 9/7, 10/7" is a date too.
_LISTED_DATE = re.compile(r"[0-9]{1,2}/[0-9]{1,2}[,;]")
# Two-digit years below this are in the 2000s: 21 is 2021, 45 is 1945, 98 is 1998.
_YY_PIVOT = 35

#: "đến", between the two ends of a range.
TO = WORDS["range"]
#: A day, 1–31 (leading zero allowed).
DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
#: A month, 1–12.
MONTH = r"(?:0?[1-9]|1[0-2])"
#: A four-digit year.
YEAR = r"[12][0-9]{3}"
#: A dash between the ends of a range, spaced or not.
DASH = r"\s*[-–—]\s*"
#: Not glued to a code or a number: 123/2021/NĐ-CP and 1.250.000 are no dates.
START = r"(?<![\w/.,-])"
#: Nothing glued after: no digit, no further "/2" or "-CP".
END = r"(?![0-9]|[/-][0-9A-Za-zĐđ]|\.[0-9])"
#: A written "ngày", "ngày mùng" or "mùng" before the day, in group ``pre``.
DAY_PREFIX = r"(?P<pre>\b(?i:ngày)\s+(?:(?i:mùng|mồng)\s+)?|\b(?i:mùng|mồng)\s+)?"


def day_month_pattern(tag: str, sep: str = "/") -> str:
    """A day/month group such as ``9/7``, with named groups ``d<tag>`` and ``m<tag>``."""
    return rf"(?P<d{tag}>{DAY}){sep}(?P<m{tag}>{MONTH})"


def read_day_month(day: str, month: str, *, prefix: str = "ngày", lunar: bool = False) -> str:
    """``("09", "4")`` → "ngày chín tháng tư"; ``prefix`` is said before the day.

    ``lunar`` reads a lunar month: ``("10", "1")`` → "ngày mười tháng giêng".
    """
    return join(prefix, read_number(day), "tháng", month_name(month, lunar=lunar))


def month_name(month: str, *, lunar: bool = False) -> str:
    """The name of a month after "tháng": 4 tư; lunar 1 giêng, lunar 12 chạp."""
    number = int(month)
    return (_LUNAR_MONTHS.get(number) if lunar else None) or MONTHS[number]


def is_lunar(match: re.Match[str]) -> bool:
    """Whether "âm lịch" (or "AL") follows the match: mùng 10/1 âm lịch."""
    return _LUNAR.match(match.string, match.end()) is not None


def read_year(year: str | None) -> str:
    """`` năm hai nghìn …`` for a written year, else nothing; 21 is 2021, 45 is 1945."""
    if not year:
        return ""
    if len(year) == 2:
        # 09/7/21: ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt
        year = str((2000 if int(year) < _YY_PIVOT else 1900) + int(year))
    return f" năm {read_number(year)}"


def prefix(match: re.Match[str]) -> str:
    """The absorbed "ngày"/"mùng" words in lower case, or "ngày" when none was written.

    After "hôm" and in a name the day needs no "ngày": hôm 20/6 hôm hai mươi tháng sáu,
    Quốc khánh 2/9 Quốc khánh hai tháng chín.
    """
    written = match.group("pre")
    if written:
        return " ".join(written.lower().split())
    if previous_words(match)[-1:] == ["hôm"] or _in_name(match):
        return ""
    return "ngày"


def _in_name(match: re.Match[str]) -> bool:
    """Whether the date is part of a name: Quốc khánh 2/9, Quảng trường 17/10."""
    start = max(0, match.start() - 30)
    return _NAME_CONTEXT.search(match.string, start, match.start()) is not None


def previous_words(match: re.Match[str]) -> list[str]:
    """The last few words before the match, in lower case."""
    return match.string[max(0, match.start() - 30) : match.start()].lower().split()


def after_part_word(match: re.Match[str]) -> bool:
    """Whether the word just before the match names a date part: "quý 5/2021", "tháng 0/2021".

    Numbers there that the date rules did not take are a date written wrong: neither a
    month ("quý tháng năm …") nor a fraction ("tháng không trên …").
    """
    return previous_words(match)[-1:] in ([word] for word in _PART_WORDS)


def has_context(match: re.Match[str]) -> bool:
    """Whether a yearless day/month is a date: written "ngày", a time word, a weekday, a name."""
    if match.group("pre") or char_before(match.string, match.start()) == "(":
        return True
    words = previous_words(match)
    if words and (words[-1] in _DAY_CONTEXT or _LISTED_DATE.fullmatch(words[-1])):
        # Sáng 9/7, từ 8/7 đến 10/7; ngày 9/7, 10/7
        return True
    if _in_name(match):
        # Quốc khánh 2/9
        return True
    # thứ Sáu 9/7, Chủ nhật 10/7
    return len(words) >= 2 and words[-2] in {"thứ", "chủ"} and words[-1] in _WEEKDAYS


def join(*parts: str) -> str:
    """Join non-empty reading parts with single spaces."""
    return " ".join(part for part in parts if part)
