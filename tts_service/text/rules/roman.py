"""Roman numerals, read only where the context says they are numbers.

A capital "I" may be English, a "C" a licence class ("hạng C"), and "XL" a size, so a
numeral is read only

* after a context word of ``data/roman_context.tsv`` (``roman``): "khóa XV" → "khóa
  mười lăm", "Đại hội XIII" → "Đại hội mười ba", "thế kỷ XXI" → "thế kỷ hai mươi mốt",
  also further down a list ("quý II, III và IV"); after "thứ" it is an ordinal: "lần thứ
  XVI" → "lần thứ mười sáu", "thứ IV" → "thứ tư", "thứ I" → "thứ nhất";
* as a heading number at the start of a sentence (``roman_heading``): "II. Nội dung",
  also when the sentence splitter kept it with the sentence before ("… xong. II. Nội");
* as a bare numeral of two or more of I, V, X (``roman_bare``), which is not an acronym
  either: "Đảng bộ tỉnh XVI". This one runs after the numeric rules (295), so "Quý
  II/2021" stays whole for the date rule.

Only I, V, X and L are accepted (values up to 89): C, D and M are far more often
letters than numerals in Vietnamese news.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_tsv
from tts_service.text.rules.base import Rule
from tts_service.text.rules.cardinal import read_number
from tts_service.text.rules.ordinal import read_ordinal
from tts_service.text.rules.roman_numeral import roman_to_int

__all__ = ["RULES", "read_roman"]

_NUMERAL = r"[IVXL]+"
_NUMERAL_LETTERS = frozenset("IVXL")
# Not part of a longer token, and not the "II" of "Quý II/2021" (a date, read there).
_STANDALONE = re.compile(rf"(?<![\w&./-]){_NUMERAL}(?![\w&]|[/.-][0-9])")
# At the start of a sentence or right after one ends ("… xong. II. Nội dung"); quotes,
# bullets or dashes before a heading number are silent and claimed with it.
_HEADING = re.compile(rf"(?:^[^\w(\[]*?|(?<=[.!?]\s))(?P<numeral>{_NUMERAL})(?=[.)](?!\w))")
_BARE = re.compile(r"(?<![\w&./-])[IVX]{2,}(?![\w&]|[/.-][0-9])")
_LIST_SEPARATOR = r"(?:,|;|-|–|và|hoặc|đến|tới)"


# One item of a list after the context word: "II, " or "III và ".
_LIST_ITEM = re.compile(rf"{_NUMERAL}\s*{_LIST_SEPARATOR}\s*", re.IGNORECASE)


@lru_cache(maxsize=1)
def _context_word() -> re.Pattern[str]:
    """A context word and the spaces after it: "lần thứ ", "quý ", "thế kỷ "."""
    words = sorted((row[0] for row in load_tsv("roman_context.tsv")), key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    # Matched at every start, overlapping ones too ("học kỳ họp": "kỳ họp" is found).
    return re.compile(rf"(?<!\w)(?=(?P<word>{alternatives})(?P<spaces>\s+))", re.IGNORECASE)


@lru_cache(maxsize=4)
def _contexts(text: str) -> dict[int, str]:
    """Where a numeral in context may start in ``text``, and the context word it follows.

    "quý II, III và IV": the positions of "II", "III" and "IV", all after "quý". One pass
    over the sentence for all its numerals: searching the text before each numeral again
    made a line of 20,000 numerals quadratic. No context word can be part of a list, so
    each list is walked once, from the word that opens it.
    """
    found: dict[int, str] = {}
    for opening in _context_word().finditer(text):
        word, position = opening.group("word"), opening.end("spaces")
        found.setdefault(position, word)
        while (item := _LIST_ITEM.match(text, position)) is not None:
            position = item.end()
            found.setdefault(position, word)
    return found


def read_roman(numeral: str, *, ordinal: bool = False) -> str | None:
    """Read a Roman numeral as a cardinal ("XVI" → "mười sáu") or, after "thứ", an ordinal.

    ``None`` if ``numeral`` is not a canonical numeral ("IIII", "VX").
    """
    value = roman_to_int(numeral)
    if value is None or value == 0:
        return None
    return read_ordinal(str(value)) if ordinal else read_number(str(value))


def _verbalize_context(match: re.Match[str]) -> str | None:
    """lần thứ XVI: mười sáu; thứ IV: tư; khóa XV: mười lăm; "C" or "I" alone: not ours."""
    numeral = match.group()
    if len(numeral) == 1 and numeral not in "IVX":
        # hạng L? A lone L is a letter, like C, D and M.
        return None
    word = _contexts(match.string).get(match.start())
    if word is None:
        return None
    # thứ IV: thứ tư (ordinal); khóa IV: khóa bốn (cardinal)
    return read_roman(numeral, ordinal=word.lower() == "thứ")


def _verbalize_heading(match: re.Match[str]) -> str | None:
    """II. Nội dung: hai; I. Mục đích: một."""
    return read_roman(match.group("numeral"))


def _verbalize_bare(match: re.Match[str]) -> str | None:
    """Đảng bộ tỉnh XVI: mười sáu."""
    return read_roman(match.group())


RULES: tuple[Rule, ...] = (
    Rule("roman", _STANDALONE, _verbalize_context, 60, _NUMERAL_LETTERS),
    Rule("roman_heading", _HEADING, _verbalize_heading, 61, _NUMERAL_LETTERS),
    Rule("roman_bare", _BARE, _verbalize_bare, 295, _NUMERAL_LETTERS),
)
