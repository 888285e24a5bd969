"""Web addresses, e-mail addresses and hashtags, said piece by piece.

"https://langson.gov.vn/tin-tuc" → "lang son chấm gốp chấm vê en gạch chéo tin gạch
ngang tuc"; "vanphong@langson.gov.vn" → "van phong a còng lang son chấm gốp chấm vê
en"; "#CovidVN" → "hát tác cô vít vê en". The scheme ("https://") is not read: it tells
a listener nothing. Pieces and separators are read from ``data/url_words.tsv``; a piece
not listed is cut into Vietnamese syllables when it can be ("baochinhphu" → "bao chinh
phu"), read as written when it is pronounceable ("home"), else spelled ("ubnd" → "u bê
en nờ đê"); digits are read one by one, as in a phone number.

Priority 10, the first rule: an address contains dots, slashes and digits that every
other rule would misread.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_tsv
from tts_service.text.rules.acronym import is_syllable, read_as_word, spell
from tts_service.text.rules.base import Rule
from tts_service.text.rules.cardinal import read_digits
from tts_service.text.symbols import symbol_from_tsv

__all__ = ["RULES", "read_address"]

# Punctuation that ends a sentence or clause is not part of an address written before it.
_TAIL = r"(?<![.,;:!?)'\"”])"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+" + _TAIL)
_URL = re.compile(
    r"(?<![\w@/])(?:(?:https?|ftp)://|www\.)[^\s<>\"“”]+"
    + _TAIL
    + r"|(?<![\w@./-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:vn|com|net|org|gov|edu|info)\b"
    r"(?:/[^\s<>\"“”]*" + _TAIL + ")?"
)
_HASHTAG = re.compile(r"(?<![\w#&])#(?P<tag>[^\W\d_][\w]*)")
_SCHEME = re.compile(r"^(?:https?|ftp)://")
_PIECES = re.compile(r"[0-9]+|[^\W\d_]+|\S")
_CAMEL = re.compile(r"[A-ZĐ]+(?![a-zđ])|[A-ZĐ]?[^\W\d_A-ZĐ]+|[0-9]+")
_CONSONANTS = re.compile(r"[^aeiouy0-9]{3,}", re.IGNORECASE)
_VOWELS = re.compile(r"[aeiouy]+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    return {symbol_from_tsv(row[0]): row[1] for row in load_tsv("url_words.tsv")}


def _read_piece(piece: str) -> str:
    words = _words()
    lower = piece.lower()
    if lower in words:
        return words[lower]
    if piece.isdigit():
        # 2021 in an address: hai không hai một
        return read_digits(piece)
    if not piece.isalpha():
        return ""
    known = read_as_word(piece)
    if known is not None:
        # covid: cô vít
        return known
    syllables = _syllables(lower)
    if syllables:
        # langson: lang son (Vietnamese syllables written together, said apart)
        return " ".join(syllables)
    vowel_groups = len(_VOWELS.findall(piece))
    if len(piece) >= 3 and (vowel_groups >= 2 or (vowel_groups and not _CONSONANTS.search(piece))):
        # example, news: said as written
        return lower
    # ubnd: u bê en nờ đê
    return spell(piece)


def _syllables(word: str) -> list[str] | None:
    """Cut ``word`` into toneless Vietnamese syllables, fewest first: "langson" → lang, son."""
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 7), end):
            head = best[start]
            if head is not None and is_syllable(word[start:end]):
                candidate = [*head, word[start:end]]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(word)]


def read_address(address: str) -> str:
    """Read a URL or e-mail address piece by piece; the scheme and a final "/" are skipped."""
    address = _SCHEME.sub("", address).rstrip("/")
    return " ".join(w for w in (_read_piece(p) for p in _PIECES.findall(address)) if w)


def _verbalize_address(match: re.Match[str]) -> str | None:
    """langson.gov.vn: langson chấm gốp chấm vê en."""
    return read_address(match.group()) or None


def _verbalize_hashtag(match: re.Match[str]) -> str | None:
    """#CovidVN: hát tác covid vê en (the tag is cut at its capitals)."""
    pieces = _CAMEL.findall(match.group("tag")) or [match.group("tag")]
    return " ".join(["hát tác", *(_read_piece(p) for p in pieces)])


RULES: tuple[Rule, ...] = (
    Rule("email", _EMAIL, _verbalize_address, 10, frozenset("@")),
    Rule("url", _URL, _verbalize_address, 11, frozenset("./")),
    Rule("hashtag", _HASHTAG, _verbalize_hashtag, 12, frozenset("#")),
)
