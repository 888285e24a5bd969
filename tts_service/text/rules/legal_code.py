"""Codes of legal documents: "15/2021/NĐ-CP", "123/QĐ-UBND", "35-NQ/TW", "45/2019/QH14".

One reading everywhere: the number, then "năm" and the year if there is one, then each
letter group as the words it abbreviates, in the written order, with no "trên" for the
slashes:

* "15/2021/NĐ-CP" → "mười lăm năm hai nghìn không trăm hai mươi mốt nghị định Chính phủ"
* "123/QĐ-UBND" → "một trăm hai mươi ba quyết định Ủy ban nhân dân"
* "05/CT-TTg" → "năm chỉ thị Thủ tướng Chính phủ"
* "35-NQ/TW" (Party style) → "ba mươi lăm nghị quyết Trung ương"
* "45/2019/QH14" → "bốn mươi lăm năm hai nghìn không trăm mười chín Quốc hội khóa mười bốn"

Why this reading: the middle number is always a year, and "năm" says so where "trên"
would sound like a fraction ("mười lăm trên hai nghìn…"); spelling the letters ("nờ đê
xê pê") is opaque to listeners, while the words are what the letters mean. The type
word is kept even after "Nghị định số" so that the reading maps back to exactly one
written code, which is what a listener needs to look the document up. Leading zeros are
not read ("05" → "năm"): 05/CT-TTg and 5/CT-TTg are the same directive.

Priority 20: before abbreviations and every numeric rule, which would otherwise read
"15/2021" as a date or a fraction.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_tsv
from tts_service.text.lexicon import Lexicon
from tts_service.text.rules.acronym import spell
from tts_service.text.rules.base import Rule
from tts_service.text.rules.cardinal import read_number

__all__ = ["RULES", "read_code"]

_PART = r"[A-ZĐ][A-Za-zĐđ&]*[0-9]*"
_CODE = rf"{_PART}(?:-{_PART})*"
# Not glued to a longer number or path ("1/2/NĐ" inside "a/1/2/NĐ" is no code).
_LEFT = r"(?<![\w/.,-])"
_RIGHT = r"(?![\w/&-])"
_STATE = re.compile(
    rf"{_LEFT}(?P<number>[0-9]{{1,5}})(?:/(?P<year>(?:19|20)[0-9]{{2}}))?/(?P<code>{_CODE}){_RIGHT}"
)
_PARTY = re.compile(rf"{_LEFT}(?P<number>[0-9]{{1,5}})-(?P<code>{_PART}/{_CODE}){_RIGHT}")
_SPLIT = re.compile(r"[-/]")
_TRAILING_NUMBER = re.compile(r"^(?P<letters>.*?)(?P<number>[0-9]+)$")


@lru_cache(maxsize=1)
def _types() -> dict[str, str]:
    return {row[0]: row[1] for row in load_tsv("legal/types.tsv")}


@lru_cache(maxsize=1)
def _issuers() -> dict[str, str]:
    return {row[0]: row[1] for row in load_tsv("legal/issuers.tsv")}


def _read_issuer(part: str) -> str:
    """One issuer group: table, then the general lexicon, then letter by letter."""
    known = _issuers().get(part) or Lexicon.builtin().read(part)
    if known is not None:
        return known
    numbered = _TRAILING_NUMBER.match(part)
    if numbered and numbered.group("letters"):
        letters = numbered.group("letters")
        number = read_number(numbered.group("number"))
        if letters == "QH":
            # QH14: Quốc hội khóa mười bốn (the legislature's term)
            return f"{_issuers()['QH']} khóa {number}"
        # BCĐ389: Ban Chỉ đạo ba trăm tám mươi chín
        return f"{_read_issuer(letters)} {number}"
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
        # TTLT-BTC-BNV: thông tư liên tịch Bộ Tài chính, Bộ Nội vụ
        words.append(", ".join(_read_issuer(p) for p in parts))
    return " ".join(words)


def _verbalize_state(match: re.Match[str]) -> str | None:
    """15/2021/NĐ-CP: mười lăm năm hai nghìn không trăm hai mươi mốt nghị định Chính phủ."""
    return read_code(match.group("number"), match.group("year"), match.group("code"))


def _verbalize_party(match: re.Match[str]) -> str | None:
    """35-NQ/TW: ba mươi lăm nghị quyết Trung ương."""
    return read_code(match.group("number"), None, match.group("code"))


RULES: tuple[Rule, ...] = (
    Rule("legal_code", _STATE, _verbalize_state, 20),
    Rule("legal_code", _PARTY, _verbalize_party, 21),
)
