"""Cardinal numbers: how Vietnamese reads 0, 15, 2021, 1.250.000, 12,5 and -5 aloud.

``read_number`` is the one place that knows the spelling rules (mốt/tư/lăm after
"mươi", "linh" for a zero tens digit, "không trăm" inside larger numbers); every other
numeric rule and the Roman-numeral rule build on it. Its lexicon lives in
``data/numbers/*.tsv``.

Priorities (lower runs first; legal codes, URLs etc. of other modules stay below 200):
``cardinal_long_digits`` 270, ``cardinal_decimal`` 280, ``cardinal_point`` 285,
``cardinal`` 290 — the most generic rules run last, after dates, times, money,
measures, ranges, ordinals and fractions had their pick.
"""

from __future__ import annotations

import re

from tts_service.text.data import load_map, load_tsv
from tts_service.text.rules.base import ASCII_DIGITS, Rule

__all__ = [
    "DIGITS",
    "NUMERAL",
    "NUMERAL_START",
    "RULES",
    "WORDS",
    "read_decimal",
    "read_digits",
    "read_number",
    "read_numeral",
]

#: Digit → plain reading, "0" → "không" … "9" → "chín".
DIGITS: dict[str, str] = load_map("numbers/digit.tsv")
_SPECIAL: dict[str, str] = {row[0]: row[2] for row in load_tsv("numbers/digit_special.tsv")}
_MAGNITUDE: dict[str, str] = load_map("numbers/magnitude.tsv")
#: Function words of number readings: ``phẩy``, ``chấm``, ``âm``, ``cộng``, ``đến``, …
WORDS: dict[str, str] = load_map("numbers/words.tsv")

_TEN, _TENS, _HUNDRED = _MAGNITUDE["ten"], _MAGNITUDE["tens"], _MAGNITUDE["hundred"]
# Groups of three digits below a billion; "tỷ" then repeats: 10^12 is "nghìn tỷ".
_GROUP_WORDS = ("", _MAGNITUDE["thousand"], _MAGNITUDE["million"])
_BILLION = 10**9

# Spaces that group thousands: "1 000 000", also no-break and thin spaces.
_GROUP_SPACE = "[ \u00a0\u2009\u202f]"
_SPACED_INT = rf"[1-9][0-9]{{0,2}}(?:{_GROUP_SPACE}[0-9]{{3}})+(?![0-9])"
_SPACED = rf"{_SPACED_INT}(?:,[0-9]+)?"

#: A written number: ``1.250.000``, ``2021``, ``12,5``, ``1.250,75``, ``1,250,000``, ``12.5``,
#: ``1 000 000``. Only ASCII digits (``\d`` would also accept other scripts' digits).
NUMERAL = (
    rf"(?:{_SPACED}"  # thousands grouped by spaces, 1 000 000 (French and ISO style)
    r"|[0-9]{1,3}(?:,[0-9]{3}){2,}(?![0-9])"  # English thousands commas, 1,250,000
    r"|[0-9]{1,3}(?:\.[0-9]{3})+(?![0-9])(?:,[0-9]+)?"  # 1.250.000 or 1.250,5
    r"|[0-9]+\.[0-9]{1,2}(?![0-9]|\.[0-9])"  # English decimal point, 12.5
    r"|[0-9]+(?:,[0-9]+)?)"  # 2021 or 12,5
)


def _read_below_thousand(n: int, *, full: bool) -> list[str]:
    """Read 0–999; ``full`` when a higher group precedes, so zeros must be spoken."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        # X00: ba trăm; inside a larger number: một nghìn không trăm …
        words += [DIGITS[str(hundreds)], _HUNDRED]
    if tens == 0:
        if units and words:
            # X0Y: một trăm linh một, một trăm linh năm
            words += [_SPECIAL["0"], DIGITS[str(units)]]
        elif units:
            # Y: năm
            words.append(DIGITS[str(units)])
    elif tens == 1:
        # 1Y: mười, mười một, mười bốn, mười lăm
        words.append(_TEN)
        if units:
            words.append(_SPECIAL["5"] if units == 5 else DIGITS[str(units)])
    else:
        # XY: hai mươi, hai mươi mốt, hai mươi tư, hai mươi lăm, hai mươi hai
        words += [DIGITS[str(tens)], _TENS]
        if units:
            words.append(_SPECIAL.get(str(units), DIGITS[str(units)]))
    return words


def _read_below_billion(n: int, *, full: bool) -> list[str]:
    """Read 0–999 999 999 in groups of three; zero groups are skipped."""
    words: list[str] = []
    groups = [(n // 1000**i) % 1000 for i in range(2, -1, -1)]
    for index, group in enumerate(groups):
        if not group:
            # 1.000.005: một triệu không trăm linh năm (the empty thousands are silent)
            continue
        words += _read_below_thousand(group, full=full or bool(words))
        if _GROUP_WORDS[2 - index]:
            words.append(_GROUP_WORDS[2 - index])
    return words


def _read_int(n: int, *, full: bool = False) -> list[str]:
    """Read any non-negative integer; above a billion, "tỷ" repeats (nghìn tỷ, tỷ tỷ)."""
    if n >= _BILLION:
        high, low = divmod(n, _BILLION)
        words = [*_read_int(high, full=full), _MAGNITUDE["billion"]]
        # 1.000.000.005: một tỷ không trăm linh năm
        return words + (_read_below_billion(low, full=True) if low else [])
    return _read_below_billion(n, full=full)


def read_number(digits: str) -> str:
    """Read ASCII digits as one number: ``"2021"`` → "hai nghìn không trăm hai mươi mốt".

    Leading zeros are ignored (``"05"`` → "năm"); an empty or all-zero string reads
    "không". Non-digit characters raise ``ValueError``.
    """
    if digits and not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"not a digit string: {digits!r}")
    value = int(digits) if digits else 0
    if value == 0:
        return DIGITS["0"]
    return " ".join(_read_int(value))


def read_digits(text: str) -> str:
    """Read every ASCII digit of ``text`` one by one: ``"0912"`` → "không chín một hai"."""
    return " ".join(DIGITS[ch] for ch in text if ch in DIGITS)


def read_decimal(integer: str, fraction: str, *, point: str = "decimal_comma") -> str:
    """Read ``integer,fraction``: ``("12", "25")`` → "mười hai phẩy hai mươi lăm".

    Leading zeros of the fraction are spoken (0,05 không phẩy không năm) and a fraction
    longer than three digits is read digit by digit (3,14159 ba phẩy một bốn một năm chín).
    """
    head = read_number(integer)
    if len(fraction) > 3:
        # 3,14159: ba phẩy một bốn một năm chín
        tail = read_digits(fraction)
    else:
        # 0,05: không phẩy không năm; 12,25: mười hai phẩy hai mươi lăm
        stripped = fraction.lstrip("0")
        zeros = [DIGITS["0"]] * (len(fraction) - len(stripped))
        tail = " ".join([*zeros, read_number(stripped)] if stripped else zeros)
    return f"{head} {WORDS[point]} {tail}"


def read_numeral(text: str) -> str:
    """Read a written number matched by :data:`NUMERAL`, with an optional sign.

    ``"1.250.000"`` → "một triệu hai trăm năm mươi nghìn", ``"-12,5"`` → "âm mười hai
    phẩy năm". A dot followed by one or two digits is an English decimal point, read
    "phẩy" as Vietnamese writes a comma (12.5% mười hai phẩy năm phần trăm).
    """
    text = re.sub(_GROUP_SPACE, "", text)
    sign = ""
    if text[:1] in "-−":
        sign, text = WORDS["minus"] + " ", text[1:]
    elif text[:1] == "+":
        sign, text = WORDS["plus"] + " ", text[1:]
    if re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3}){2,}", text):
        return sign + read_number(text.replace(",", ""))
    integer, _, fraction = text.replace(".", "," if _english_point(text) else "").partition(",")
    if fraction:
        return sign + read_decimal(integer, fraction)
    return sign + read_number(integer)


def _english_point(text: str) -> bool:
    """Whether a single dot is a decimal point (12.5) rather than thousands (12.500)."""
    _, dot, tail = text.partition(".")
    return bool(dot) and "." not in tail and "," not in text and 1 <= len(tail) <= 2


# A minus is a sign only at the start or after a space or an opening bracket:
# "-5" âm năm, "(-3,5)" âm ba phẩy năm; never in "2015-2020" or "Covid-19".
_START = r"(?:(?:^|(?<=[\s(\[]))[-−]|(?<![0-9]))"
#: Where a number with an optional sign may start inside a unit, money or range
#: expression: a sign as above, or no letter, digit or separator just before it.
NUMERAL_START = r"(?:(?:^|(?<=[\s(\[]))[-−]|(?<![\w.,/-]))"
_END = r"(?![0-9]|[.,][0-9])"

_LONG_DIGITS = re.compile(rf"(?=[0-9])(?<![0-9.,])(?:0[0-9]{{2,}}|[1-9][0-9]{{15,}}){_END}")
_DECIMAL = re.compile(
    rf"(?=[-−0-9]){_START}(?<![.,])(?:{_SPACED_INT}|[0-9]{{1,3}}(?:\.[0-9]{{3}})+|[0-9]+),[0-9]+{_END}"
)
_POINT = re.compile(rf"(?=[0-9])(?<![0-9.,])[0-9]+\.[0-9]{{1,2}}{_END}")
_INTEGER = re.compile(
    rf"(?=[-−0-9]){_START}(?:{_SPACED}|[0-9]{{1,3}}(?:,[0-9]{{3}}){{2,}}|[0-9]{{1,3}}(?:\.[0-9]{{3}})+|[0-9]+)(?![0-9])"
)


def _verbalize_long_digits(match: re.Match[str]) -> str | None:
    """001, 0205, 001089012345: leading-zero codes and very long numbers, digit by digit.

    Two digits with a leading zero are a number (05 tập thể năm tập thể), and three
    digits after a number and a space are its thousands (802 000 người), left to the
    cardinal rule.
    """
    before = match.string[max(0, match.start() - 2) : match.start()]
    if len(match.group()) == 3 and re.fullmatch(rf"[0-9]{_GROUP_SPACE}", before):
        return None
    # 00123456: không không một hai ba bốn năm sáu
    return read_digits(match.group())


def _verbalize_decimal(match: re.Match[str]) -> str:
    """12,5 mười hai phẩy năm; -0,5 âm không phẩy năm."""
    return read_numeral(match.group())


def _verbalize_point(match: re.Match[str]) -> str:
    """4.0 bốn chấm không: a dotted version or level number, read with "chấm"."""
    integer, _, fraction = match.group().partition(".")
    return read_decimal(integer, fraction, point="decimal_point")


def _verbalize_integer(match: re.Match[str]) -> str:
    """1.250.000 một triệu hai trăm năm mươi nghìn; 1 000 000 một triệu; -5 âm năm; 05 năm."""
    return read_numeral(match.group())


RULES: tuple[Rule, ...] = (
    Rule("cardinal_long_digits", _LONG_DIGITS, _verbalize_long_digits, 270, ASCII_DIGITS),
    Rule("cardinal_decimal", _DECIMAL, _verbalize_decimal, 280, ASCII_DIGITS),
    Rule("cardinal_point", _POINT, _verbalize_point, 285, ASCII_DIGITS),
    Rule("cardinal", _INTEGER, _verbalize_integer, 290, ASCII_DIGITS),
)
