"""Vietnamese licence plates: "30A-123.45", "29LD-012.34", "12B1-567.89", "BS 12F1-3456".

Read as newsreaders read them when a plate is news (the car of a hit-and-run, a seized
truck): the registration area as a number, the series by its letter names, a pause,
then the serial digit by digit, its dot said "chấm":

* "12A-345.67" → "mười hai a, ba bốn năm chấm sáu bảy"
* "29LD-012.34" → "hai mươi chín e lờ đê, không một hai chấm ba bốn"
* "12F1-3456" → "mười hai ép một, ba bốn năm sáu" (a motorbike's series has a digit)

Why this reading: the area is a place ("biển ba mươi", "xe biển hai mươi chín" is how
people name Hà Nội's plates), so a number; the serial is no quantity, and read as one
("ba trăm bốn mươi lăm chấm sáu mươi bảy") it sounds like a decimal and its leading
zero is lost ("012.34" is not "mười hai chấm ba mươi tư"): digit by digit it can be
written down as heard, which is what a listener asked to look out for a car needs.

A serial with its dot ("345.67") is a plate wherever it is written; one of four or
five plain digits ("12F1-3456", "30A 12345") only after a word that announces a plate
(``data/plate_context.tsv``: biển số, BKS, xe, ô tô …), since "12A-3456" alone may be
anything. The area is two digits, 11–99; the series one or two capitals, maybe a digit;
the dash may be spaced ("29A - 123.45").

Priority 30: before document codes' neighbours and abbreviations (40), which would read
"LD" or "KT" of the series as words, and before every numeric rule, which would read
"345.67" as a decimal.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_tsv
from tts_service.text.rules.acronym import spell
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import WORDS, read_digits, read_number
from tts_service.text.rules.context import text_before

__all__ = ["RULES", "read_plate"]

_PLATE = re.compile(
    r"(?<![\w.,/-])(?P<area>[1-9][0-9])-?(?P<series>[A-ZĐ]{1,2}[0-9]?)(?: ?[-–] ?|[. ])?"
    r"(?P<serial>[0-9]{3}\.[0-9]{2}|[0-9]{4,5})(?![\w]|[.,][0-9])"
)
_WORD = re.compile(r"\w+")
# How far back the announcing word may be: four words and a colon ("xe ô tô mang BKS:").
_CUE_WIDTH = 40
_CUE_WORDS = 4


@lru_cache(maxsize=1)
def _cues() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(row[0].lower().split()) for row in load_tsv("plate_context.tsv"))


def _announced(text: str, at: int) -> bool:
    """Whether one of the cue words is among the last words before ``at``: "BS 12F1-3456"."""
    words = _WORD.findall(text_before(text, at, _CUE_WIDTH).lower())[-_CUE_WORDS:]
    return any(words[i : i + len(cue)] == list(cue) for cue in _cues() for i in range(len(words)))


def read_plate(area: str, series: str, serial: str) -> str:
    """``("29", "LD", "012.34")`` → "hai mươi chín e lờ đê, không một hai chấm ba bốn"."""
    number, _, tail = serial.partition(".")
    digits = read_digits(number)
    if tail:
        # 345.67: ba bốn năm chấm sáu bảy
        digits = f"{digits} {WORDS['decimal_point']} {read_digits(tail)}"
    return f"{read_number(area)} {spell(series)}, {digits}"


def _verbalize(match: re.Match[str]) -> str | None:
    """30A-123.45: ba mươi a, một hai ba chấm bốn năm; "lớp 12A-1234": not ours."""
    area, series, serial = match.group("area", "series", "serial")
    if "." not in serial and not _announced(match.string, match.start()):
        # 12A-3456 with nothing saying it is a plate
        return None
    return read_plate(area, series, serial)


RULES: tuple[Rule, ...] = (Rule("plate", _PLATE, _verbalize, 30, ASCII_DIGITS),)
