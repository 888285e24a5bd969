"""Words written in mixed case, mostly technology: "IoT", "eKYC", "5G", "iPhone", "ChatGPT".

Two rules:

``mixed_case`` (69)
    The words of ``data/mixed_case.tsv``, case-sensitive, as newsreaders say them: "IoT"
    ai ô ti, "AI" ây ai, "5G" năm giê, "VNeID" vê en e ai đi, "iPhone" ai phôn.
``mixed_case_guess`` (298)
    Any other word with a capital after a small letter, or with small letters between
    capitals, cut where its case changes and each piece read as what it looks like:

    * a run of capitals is an acronym, spelled: "ChatGPT" → "Chat giê pê tê";
    * one small letter before capitals is a letter of the acronym: "mRNA" → "em mờ e
      rờ en nờ a", "eGP" → "e giê pê";
    * "i" before a capitalised word is Apple's "ai": "iCloud" → "ai Cloud";
    * a capitalised word ("Tok", "City") stays a word, apart from its neighbours, so the
      voice reads "Smart City" rather than guessing at "SmartCity".

    Guesses are listed by ``tts-service normalize --unknown``: the data file is where
    the right reading goes.

The list runs after abbreviations (40), so that a lexicon entry such as "ThS" (thạc sĩ)
wins, and before numbers (≥ 200), which would read the "5" of "5G" alone. The guess runs
after every other rule, so that names said as a word ("YouTube") are never guessed at;
a unit standing alone ("giá mỗi kWh") is read as the unit.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_map
from tts_service.text.rules.acronym import spell
from tts_service.text.rules.base import Rule
from tts_service.text.rules.measure import UNITS

__all__ = ["RULES", "read_mixed_case"]

# A word with a small letter followed by a capital ("IoT", "eKYC", "TikTok", "PhD"),
# letters only, not glued to digits, "&", "-" or ".". ASCII for the case change: the
# Vietnamese letters of the regex ranges mix both cases, and these words are English.
_GUESS = re.compile(r"(?<![\w&.-])(?=[^\W\d_]*?[a-z][A-Z])[^\W\d_]{3,}(?![\w&]|[.-]\w)")


@lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    return load_map("mixed_case.tsv")


@lru_cache(maxsize=1)
def _listed() -> re.Pattern[str]:
    keys = "|".join(re.escape(k) for k in sorted(_words(), key=len, reverse=True))
    return re.compile(rf"(?<![\w&.-])(?:{keys})(?![\w&]|[.-]\w)")


def _pieces(word: str) -> list[str]:
    """Cut where the case changes: "ChatGPT" → Chat, GPT; "GPTChat" → GPT, Chat; "mRNA" → m, RNA."""
    pieces: list[str] = []
    start, size = 0, len(word)
    while start < size:
        end = start + 1
        if word[start].isupper():
            while end < size and word[end].isupper():
                end += 1
            if end - start > 1 and end < size and word[end].islower():
                # GPTChat: the last capital of the run begins the next word
                end -= 1
            elif end - start == 1:
                # Chat: a capital and its small letters
                while end < size and word[end].islower():
                    end += 1
        else:
            while end < size and not word[end].isupper():
                end += 1
        pieces.append(word[start:end])
        start = end
    return pieces


def read_mixed_case(word: str) -> str:
    """A guess at a mixed-case word: "ChatGPT" → "Chat giê pê tê", "iCloud" → "ai Cloud"."""
    pieces = _pieces(word)
    words: list[str] = []
    for index, piece in enumerate(pieces):
        following = pieces[index + 1] if index + 1 < len(pieces) else ""
        if piece.isupper():
            # GPT: giê pê tê
            words.append(spell(piece))
        elif piece == "i" and following[1:2].islower():
            # iCloud: ai (Apple's prefix, said in English)
            words.append("ai")
        elif len(piece) == 1:
            # mRNA: em mờ …; eKYC: e … (one small letter before an acronym is a letter)
            words.append(spell(piece))
        else:
            # Tok, City, Smart: a word, left to the voice
            words.append(piece)
    return " ".join(words)


def _verbalize_listed(match: re.Match[str]) -> str | None:
    """IoT: ai ô ti; 5G: năm giê; AI: ây ai."""
    return _words().get(match.group())


def _verbalize_unit(match: re.Match[str]) -> str | None:
    """kWh alone ("giá mỗi kWh"): ki lô oát giờ; other words: not ours."""
    return UNITS.get(match.group())


def _verbalize_guess(match: re.Match[str]) -> str | None:
    """SmartCity: Smart City; mRNA: em mờ e rờ en nờ a."""
    return read_mixed_case(match.group())


RULES: tuple[Rule, ...] = (
    Rule("mixed_case", _listed(), _verbalize_listed, 69),
    Rule("measure", _GUESS, _verbalize_unit, 298),
    Rule("mixed_case_guess", _GUESS, _verbalize_guess, 299),
)
