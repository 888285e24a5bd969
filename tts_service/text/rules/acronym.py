"""Acronyms and words in capitals: spell "PDF", say "ASEAN", lower-case "QUYẾT ĐỊNH".

Four rules, tried in this order:

``acronym_word`` (70)
    Names said as a word (``data/read_as_word.tsv``, any letter case), with a number
    glued by a hyphen read after them: "Covid-19" → "cô vít mười chín".
``acronym_number`` (75)
    Capitals mixed with digits, spelled with numbers read as numbers: "F0" → "ép
    không", "H5N1" → "hát năm en nờ một", "U23" → "u hai mươi ba".
``capitals`` (296)
    Vietnamese words written in capitals, as in headings: "QUYẾT ĐỊNH" → "quyết định".
    A word with Vietnamese diacritics is always a word; a plain one ("BAN", "TIN") only
    next to such a word, since alone it is more likely an acronym.
``acronym`` (297)
    Any other capitalised token of two or more letters, spelled with the letter names of
    ``data/letters.tsv``: "PDF" → "pê đê ép", "GDP" → "giê đê pê".

The first two run before the numeric rules (≥ 200), which would otherwise read the "19"
of "Covid-19" or the "0" of "F0" on their own; the last two after them, so that units
and currencies ("50 MW", "100 USD") are read by the measure and money rules. Roman
numerals ("XVI", "II") are never spelled here; :mod:`.roman` reads them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from tts_service.text.data import load_map, load_tsv
from tts_service.text.rules.base import Rule
from tts_service.text.rules.cardinal import WORDS, read_digits, read_number
from tts_service.text.rules.context import word_after, word_before
from tts_service.text.rules.roman_numeral import roman_to_int

__all__ = ["RULES", "is_syllable", "read_as_word", "spell"]

# One token: letters, digits and "&" ("KH&ĐT" when not in the lexicon), not glued to
# another word. The verbalizers decide whether it is theirs.
# With no ASCII lower-case letter anywhere: a cheap filter, since every verbalizer below
# declines a token with a lower-case letter, and nearly every Vietnamese word ("Hội",
# "đồng") has an ASCII one, so most words are never matched at all.
_TOKEN = re.compile(r"(?<![\w&])(?=[^\W\d_])(?:[^\W_a-z]|&)+(?![\w&])")
_PARTS = re.compile(r"[0-9]+|[₀-₉]+|[⁰¹²³⁴-⁹]+|&|[^\W\d_]")
# Subscript and superscript digits are digits ("CO₂", "B²"), but not ASCII ones.
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
# A Vietnamese syllable written without marks: onset + rhyme. "ban", "tin", "hoa",
# "nuoc" (nước), "yeu" (yêu) are syllables; "pdf", "hcm", "gdp" are not.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"(?:a(?:ch|ng|nh|[cimnoptuy])?"
    r"|e(?:ch|ng|nh|[cmnoptu])?"
    r"|i(?:e(?:ng|[cmnptu])|ch|nh|[amnptu])?"
    r"|o(?:a(?:ch|ng|nh|[cinoty])?|e[not]?|ong|oc|ng|[cimnpt])?"
    r"|u(?:y(?:e[nt]|ch|nh|[antu])?|o(?:ng|[cimnptu])?|e(?:nh)?|ng|[acimnptu])?"
    r"|y(?:e[mntu])?)"
)


@lru_cache(maxsize=1)
def _letters() -> dict[str, str]:
    return load_map("letters.tsv")


@lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    return {written.casefold(): reading for written, reading in load_tsv("read_as_word.tsv")}


def spell(token: str) -> str:
    """Say ``token`` letter by letter, numbers as numbers: "GDP" → "giê đê pê".

    Lower-case letters are spelled like capitals; digits with a leading zero are read one
    by one ("D01" đê không một); "&" is "và"; a subscript is a number
    ("CO₂" → "xê ô hai"), a superscript a power ("B²" → "bê bình phương"); other
    characters are skipped.
    """
    letters = _letters()
    words: list[str] = []
    for part in _PARTS.findall(token):
        if part.isascii() and part.isdigit() and part[0] == "0" and len(part) > 1:
            # C00, D01, PC08: a code's digits with a leading zero, said one by one
            # ("khối C00" xê không không), since the zero is part of the name
            words.append(read_digits(part))
        elif part.isascii() and part.isdigit():
            words.append(read_number(part))
        elif part[0] in "₀₁₂₃₄₅₆₇₈₉":
            # CO₂: xê ô hai (a count of atoms, read as "CO2" is)
            words.append(read_number(part.translate(_SUBSCRIPTS)))
        elif part[0] in "⁰¹²³⁴⁵⁶⁷⁸⁹":
            # B²: bê bình phương; B³: bê lập phương; B⁴: bê mũ bốn (a power)
            words.append(_power(part.translate(_SUPERSCRIPTS)))
        elif part == "&":
            words.append("và")
        elif part.upper() in letters:
            words.append(letters[part.upper()])
    return " ".join(words)


def _power(digits: str) -> str:
    """An exponent: 2 "bình phương", 3 "lập phương", any other "mũ" and the number."""
    if digits == "2":
        return WORDS["square"]
    if digits == "3":
        return WORDS["cube"]
    return f"{WORDS['power']} {read_number(digits)}"


def read_as_word(word: str) -> str | None:
    """The reading of a name said as a word, in any case: "covid" → "cô vít"; else ``None``."""
    return _words().get(word.casefold())


def is_syllable(word: str) -> bool:
    """Whether ``word`` (without tone or vowel marks) is shaped like a Vietnamese syllable."""
    return _SYLLABLE.fullmatch(word.lower()) is not None


def _has_marks(word: str) -> bool:
    """Vietnamese vowel or tone marks: "TỈNH", "SỞ" yes; "UBND", "ĐBQH" no (Đ has none)."""
    return any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", word))


def _is_capitals(word: str) -> bool:
    """Two or more letters, all capitals, no digits: "SỞ", "BAN", "HĐND"."""
    return len(word) >= 2 and word.isalpha() and word.isupper()


def _is_roman(word: str) -> bool:
    """Numerals of I, V and X ("II", "XVI", "IV"), which :mod:`.roman` reads."""
    return set(word) <= set("IVX") and roman_to_int(word) is not None


# --- acronym_word -----------------------------------------------------------------


@lru_cache(maxsize=1)
def _word_pattern() -> re.Pattern[str]:
    keys = "|".join(sorted((re.escape(k) for k in _words()), key=len, reverse=True))
    # The first letters, in both cases, let the regex engine skip every other position.
    firsts = "".join(sorted({c for k in _words() for c in (k[0].lower(), k[0].upper())}))
    return re.compile(
        rf"(?=[{re.escape(firsts)}])(?<![\w&])(?P<word>(?i:{keys}))(?:-?(?P<number>[0-9]+))?(?![\w&])"
    )


def _verbalize_word(match: re.Match[str]) -> str | None:
    """Covid-19: cô vít mười chín; ASEAN: a xê an; other words: not ours."""
    reading = read_as_word(match.group("word"))
    if reading is None:
        return None
    number = match.group("number")
    # COVID-19: cô vít mười chín (the variant number is a plain cardinal)
    return f"{reading} {read_number(number)}" if number else reading


# --- capitals ---------------------------------------------------------------------


def _in_capitals(text: str, start: int, end: int) -> bool:
    """Whether a neighbouring word is a capitalised Vietnamese word ("BAN TỔ CHỨC")."""
    # Only the neighbouring words are looked at, never the whole sentence again: a line of
    # 20,000 capitalised words would otherwise be read in quadratic time.
    return any(
        word is not None and _is_capitals(word) and _has_marks(word)
        for word in (word_before(text, start), word_after(text, end))
    )


def _verbalize_capitals(match: re.Match[str]) -> str | None:
    """QUYẾT ĐỊNH: quyết định; BAN in "BAN TỔ CHỨC": ban; PDF: not ours."""
    word = match.group()
    if not _is_capitals(word) or _is_roman(word):
        return None
    if _has_marks(word):
        # TỈNH: tỉnh (diacritics make it a word, never an acronym)
        return word.lower()
    if is_syllable(word) and _in_capitals(match.string, match.start(), match.end()):
        # TIN TỨC: tin (a plain syllable among capitalised words)
        return word.lower()
    return None


# --- acronym ----------------------------------------------------------------------


def _verbalize_number(match: re.Match[str]) -> str | None:
    """F0: ép không; U23: u hai mươi ba; H5N1: hát năm en nờ một; "Covid19": not ours."""
    token = match.group()
    if any(c.islower() for c in token) or not any(c.isdigit() for c in token):
        return None
    return spell(token)


def _verbalize_acronym(match: re.Match[str]) -> str | None:
    """PDF: pê đê ép; R&D: e rờ và đê; "A", "iPhone", "XVI": not ours."""
    token = match.group()
    if any(c.islower() or c.isdigit() for c in token) or _is_roman(token):
        return None
    if sum(c.isalpha() for c in token) < 2:
        # A (as in "Nguyễn Văn A"): a single capital is left to the engine
        return None
    return spell(token)


RULES: tuple[Rule, ...] = (
    Rule("acronym_word", _word_pattern(), _verbalize_word, 70),
    Rule("acronym_number", _TOKEN, _verbalize_number, 75),
    Rule("capitals", _TOKEN, _verbalize_capitals, 296),
    Rule("acronym", _TOKEN, _verbalize_acronym, 297),
)
