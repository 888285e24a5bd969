"""Codes of legal documents: "15/2021/NĐ-CP", "123/QĐ-UBND", "35-NQ/TW", "45/2019/QH14".

One reading everywhere: the number, then "năm" and the year if there is one, then each
letter group as the words it abbreviates, in the written order, with no "trên" for the
slashes:

* "15/2021/NĐ-CP" → "mười lăm năm hai nghìn không trăm hai mươi mốt nghị định Chính phủ"
* "123/QĐ-UBND" → "một trăm hai mươi ba quyết định Ủy ban nhân dân"
* "05/CT-TTg" → "năm chỉ thị Thủ tướng Chính phủ"
* "35-NQ/TW" (Party style) → "ba mươi lăm nghị quyết Trung ương"
* "45/2019/QH14" → "bốn mươi lăm năm hai nghìn không trăm mười chín Quốc hội khóa mười bốn"
* "2345/UBND-KT" → "hai nghìn ba trăm bốn mươi lăm Ủy ban nhân dân kinh tế"

The parts of a code are one name, read on without a pause: "Ủy ban nhân dân, ca tê"
sounded like two items of a list. A group after the issuer names the desk that drafted
the document (``data/legal/units.tsv``): "UBND-KT" kinh tế, "UB-ĐT" đô thị, where the
running-text readings ("ĐT" điện thoại, "TH" tiểu học) would be wrong.

Why this reading: the middle number is always a year, and "năm" says so where "trên"
would sound like a fraction ("mười lăm trên hai nghìn…"); spelling the letters ("nờ đê
xê pê") is opaque to listeners, while the words are what the letters mean. The type
word is kept even after "Nghị định số" so that the reading maps back to exactly one
written code, which is what a listener needs to look the document up. Leading zeros are
not read ("05" → "năm"): 05/CT-TTg and 5/CT-TTg are the same directive.

A code written without its letters after the name of a document type ("Nghị định
15/2021", "TT 01/2020", "Thông tư số 01/2020") is read the same way, number then "năm"
and the year, never as a date: "tháng một năm hai nghìn không trăm hai mươi" would
send the listener to the wrong document. The type words are ``data/legal/type_words.tsv``.

An issuer group missing from the tables is cut into two known groups when it can be, as
Party bodies are named: "BTGTU" is "BTG" + "TU", Ban Tuyên giáo Tỉnh ủy.

Priorities 20–22: before abbreviations and every numeric rule, which would otherwise
read "15/2021" as a date or a fraction.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_map, load_tsv
from tts_service.text.lexicon import Lexicon
from tts_service.text.rules.acronym import spell
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import read_digits, read_number

__all__ = ["RULES", "read_code"]

_PART = r"[A-ZĐ][A-Za-zĐđ&]*[0-9]*"
# "QĐ- UBND", "NĐ - CP": a dash spaced by mistake is still inside the code, and is not
# read as a pause ("quyết định - Ủy ban nhân dân").
_CODE = rf"{_PART}(?: ?[-–] ?{_PART})*"
# Not glued to a longer number or path ("1/2/NĐ" inside "a/1/2/NĐ" is no code).
_LEFT = r"(?<![\w/.,-])"
_RIGHT = r"(?![\w/&-])"
_STATE = re.compile(
    rf"{_LEFT}(?P<number>[0-9]{{1,5}})(?:/(?P<year>(?:19|20)[0-9]{{2}}))?"
    rf" ?/(?P<code>{_CODE}){_RIGHT}"
)
_PARTY = re.compile(rf"{_LEFT}(?P<number>[0-9]{{1,5}})-(?P<code>{_PART}/{_CODE}){_RIGHT}")
_SHORT = re.compile(
    r"(?<![\w/.,-])(?P<number>[0-9]{1,5})/(?P<year>(?:19|20)[0-9]{2})(?![\w/&-]|[.,][0-9])"
)
_SPLIT = re.compile(r" ?[-–/] ?")
_TRAILING_NUMBER = re.compile(r"^(?P<letters>.*?)(?P<number>[0-9]+)$")


@lru_cache(maxsize=1)
def _types() -> dict[str, str]:
    return load_map("legal/types.tsv")


@lru_cache(maxsize=1)
def _issuers() -> dict[str, str]:
    return load_map("legal/issuers.tsv")


@lru_cache(maxsize=1)
def _units() -> dict[str, str]:
    return load_map("legal/units.tsv")


@lru_cache(maxsize=1)
def _type_words() -> re.Pattern[str]:
    """The end of the text before a short code: "… Nghị định số " or "… TT "."""
    rows = load_tsv("legal/type_words.tsv")

    def alternatives(words: list[str]) -> str:
        words = sorted(words, key=len, reverse=True)
        return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)

    optional = alternatives([row[0] for row in rows if row[1:] != ["số"]])
    required = alternatives([row[0] for row in rows if row[1:] == ["số"]])
    return re.compile(
        rf"(?<!\w)(?:(?:{optional})\s+(?:số\s+)?|(?:{required})\s+số\s+)$", re.IGNORECASE
    )


def _known_issuer(part: str) -> str | None:
    """One issuer group from the table or the general lexicon, else ``None``."""
    return _issuers().get(part) or Lexicon.builtin().read(part)


def _compound_issuer(part: str) -> str | None:
    """Two known groups written together: BTGTU Ban Tuyên giáo Tỉnh ủy; else ``None``."""
    # Longest head first; both halves of two letters or more ("KT" is no compound).
    for cut in range(len(part) - 2, 1, -1):
        head, tail = _known_issuer(part[:cut]), _known_issuer(part[cut:])
        if head is not None and tail is not None:
            return f"{head} {tail}"
    return None


def _read_issuer(part: str) -> str:
    """One issuer group: table, then the general lexicon, then letter by letter."""
    known = _known_issuer(part) or _compound_issuer(part)
    if known is not None:
        return known
    numbered = _TRAILING_NUMBER.match(part)
    if numbered and numbered.group("letters"):
        letters = numbered.group("letters")
        digits = numbered.group("number")
        # PV01: không một (a leading zero is part of the desk's name, as in "C00")
        zero = digits[0] == "0" and len(digits) > 1
        number = read_digits(digits) if zero else read_number(digits)
        if letters == "QH":
            # QH14: Quốc hội khóa mười bốn (the legislature's term)
            return f"{_issuers()['QH']} khóa {number}"
        # BCĐ389: Ban Chỉ đạo ba trăm tám mươi chín; a numbered desk of unknown name is
        # spelled, never read as a running-text word ("PV01" pê vê một, not phóng viên)
        head = _issuers().get(letters) or _units().get(letters) or spell(letters)
        return f"{head} {number}"
    # KT (a department of unknown name): ca tê
    return spell(part)


def read_code(number: str, year: str | None, code: str) -> str:
    """Read a code's parts: ``("15", "2021", "NĐ-CP")`` → "mười lăm năm hai nghìn … Chính phủ"."""
    words = [read_number(number)]
    if year:
        words += ["năm", read_number(year)]
    parts = [p for p in _SPLIT.split(code) if p]
    if parts and parts[0] in _types():
        # NĐ-CP: nghị định Chính phủ (the first group names the kind of document)
        words.append(_types()[parts[0]])
        parts = parts[1:]
    if parts:
        # UBND-KT: Ủy ban nhân dân kinh tế (the issuer, then its drafting desk)
        words.append(_read_issuer(parts[0]))
        # TTLT-BTC-BNV: thông tư liên tịch Bộ Tài chính Bộ Nội vụ (co-issuers, no pause)
        words += (_units().get(p) or _read_issuer(p) for p in parts[1:])
    return " ".join(words)


def _verbalize_state(match: re.Match[str]) -> str | None:
    """15/2021/NĐ-CP: mười lăm năm hai nghìn không trăm hai mươi mốt nghị định Chính phủ."""
    return read_code(match.group("number"), match.group("year"), match.group("code"))


def _verbalize_party(match: re.Match[str]) -> str | None:
    """35-NQ/TW: ba mươi lăm nghị quyết Trung ương."""
    return read_code(match.group("number"), None, match.group("code"))


def _verbalize_short(match: re.Match[str]) -> str | None:
    """Nghị định 15/2021: mười lăm năm hai nghìn …; "tháng 01/2020" or "4/2021": not ours."""
    if _type_words().search(match.string, max(0, match.start() - 40), match.start()) is None:
        return None
    return read_code(match.group("number"), match.group("year"), "")


RULES: tuple[Rule, ...] = (
    Rule("legal_code", _STATE, _verbalize_state, 20, ASCII_DIGITS),
    Rule("legal_code", _PARTY, _verbalize_party, 21, ASCII_DIGITS),
    Rule("legal_code", _SHORT, _verbalize_short, 22, ASCII_DIGITS),
)
