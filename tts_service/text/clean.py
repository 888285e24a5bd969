"""Cleaning steps: each turns raw portal text into tidy NFC text, one fix at a time.

Every step is a plain ``str -> str`` function, so the pipeline can loop over an ordered
tuple of them (see :mod:`tts_service.text.steps`), as gTTS loops over its
pre-processors. Steps never move words around and never touch digits, so a written
number such as ``12,5`` or a code such as ``15/2021/NĐ-CP`` reaches the rules intact.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from tts_service.text.data import load_tsv

__all__ = [
    "collapse_spaces",
    "nfc",
    "normalize_spaces",
    "normalize_tone_marks",
    "remove_control_chars",
    "space_after_comma",
]

# Zero-width and formatting characters that carry no sound: soft hyphen, ZWSP, ZWNJ, ZWJ,
# word joiner, BOM, bidi marks, embeddings and isolates (U+2066–2069). "công\u200bchức"
# reads as "côngchức" without this, and "ngày 09\u2069/07/2021" would not be a date.
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f"
    "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# Every Unicode space except line breaks: NBSP (common in portal HTML), thin space,
# ideographic space, tab, … "Hội\xa0nghị" → "Hội nghị".
_ODD_SPACE = re.compile("[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029\x85]")
_SPACE_RUN = re.compile(" {2,}")
_LINE_EDGE_SPACE = re.compile(" *\n *")
_BLANK_LINES = re.compile("\n{3,}")
# A comma, semicolon or colon glued between two letters: "công chức,viên chức".
# Digits are excluded on purpose: "12,5" is a decimal and "10:30" a time; so are two
# capitals, which make one abbreviation: "VH,TT&DL" (Văn hóa, Thể thao và Du lịch).
_GLUED_PUNCT = re.compile(r"(?<=[^\W\d_])([,;:])(?=[^\W\d_])")


def nfc(text: str) -> str:
    """Compose every character (NFC).

    Text pasted from Word or macOS often arrives decomposed ("e" + U+0302 + U+0301 for
    "ế"); rules and lexicons are written in NFC, so without this "Huế" would not match.
    """
    return unicodedata.normalize("NFC", text)


def remove_control_chars(text: str) -> str:
    """Delete control and zero-width characters, keeping line breaks.

    They are invisible on the page but split words for the engine: a soft hyphen in
    "thi\u00adđua" would make it read two broken syllables.
    """
    return _INVISIBLE.sub("", text)


def normalize_spaces(text: str) -> str:
    """Turn NBSP, tabs and other odd spaces into plain spaces, and CR/LS breaks into ``\\n``.

    Portal editors indent paragraphs with runs of ``&nbsp;``; word splitting and the
    rules' patterns only know the ASCII space.
    """
    return _ODD_SPACE.sub(" ", _LINE_BREAK.sub("\n", text))


@lru_cache(maxsize=1)
def _tone_table() -> tuple[re.Pattern[str], dict[str, str]]:
    """Old→new tone spellings in all three cases, and one regex that finds them."""
    table: dict[str, str] = {}
    for old, new, *_ in load_tsv("tone_marks.tsv"):
        for convert in (str.lower, str.capitalize, str.upper):
            table[convert(old)] = convert(new)
    keys = "|".join(sorted(table, key=len, reverse=True))
    # Only at the end of a syllable ("hoà" but not "hoàn"), and never after "q", whose
    # "u" is part of the consonant: "quý" is already correct in both styles.
    return re.compile(rf"(?<![qQ])(?:{keys})(?![^\W\d_])"), table


def normalize_tone_marks(text: str) -> str:
    """Move tone marks to the "new style" position: "hoà" → "hòa", "uỷ" → "ủy", "thuý" → "thúy".

    Both styles are in use on Vietnamese portals, sometimes in one article. One spelling
    lets the lexicons match ("Uỷ ban" and "Ủy ban" are the same words) and makes the
    output stable. Table-driven from ``data/tone_marks.tsv``; unlike underthesea's
    ``text_normalize`` it never re-spaces punctuation, which would break "12,5".
    """
    pattern, table = _tone_table()
    return pattern.sub(lambda m: table[m.group()], text)


def space_after_comma(text: str) -> str:
    """Add the missing space after ``,`` ``;`` ``:`` glued between two letters.

    "công chức,viên chức" → "công chức, viên chức", so both words are found and the
    comma's pause is kept; "12,5", "10:30" and "VH,TT&DL" are untouched.
    """
    return _GLUED_PUNCT.sub(_space_unless_capitals, text)


def _space_unless_capitals(match: re.Match[str]) -> str:
    text, at = match.string, match.start()
    if text[at - 1].isupper() and text[at + 1].isupper():
        # VH,TT&DL: one abbreviation, left whole for the lexicon
        return match.group()
    # công chức,viên chức → công chức, viên chức
    return match.group() + " "


def collapse_spaces(text: str) -> str:
    """Collapse runs of spaces, trim lines, keep paragraph breaks (at most one blank line).

    "Vy    Quản" → "Vy Quản"; a blank line between paragraphs stays, because the
    reader pauses longer there.
    """
    text = _SPACE_RUN.sub(" ", text)
    text = _LINE_EDGE_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip(" \n")
