"""Abbreviations read in full: "UBND" → "Ủy ban nhân dân", "TP.HCM" → "Thành phố Hồ Chí Minh".

Every written form of the lexicon (see :mod:`tts_service.text.lexicon`) is compiled into
one regex shaped like a trie, so matching costs one pass over the sentence however many
entries there are, and the longest form wins ("TP.HCM" before "TP.", "KH&ĐT" before
"KH"). Forms are case-sensitive: "TP" is an abbreviation, "tp" is not.

Ambiguous forms read by context (rows of ``abbreviation_senses.tsv``): "công ty CP" →
"cổ phần", "CP" alone → "Chính phủ"; "TT 01/2020" → "thông tư", "Phó TT" →
"Thủ tướng", "TT Y tế" → "trung tâm". A form with no sense that fits is declined and
left to the acronym rule, which spells it.

Priority 40: after URLs (10) and legal codes (20), whose parts ("QĐ-UBND") are read
there, before Roman numerals and acronym spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from tts_service.text.lexicon import Lexicon
from tts_service.text.rules.base import Rule

__all__ = ["PRIORITY", "RULES", "make_rules", "trie_pattern"]

PRIORITY = 40
# How much text on each side a sense may look at: enough for "tổng công ty" or "số".
_CONTEXT = 40

# A trie of characters; the key "" marks the end of a word.
_Trie = dict[str, "_Trie"]


def trie_pattern(words: Iterable[str]) -> str:
    """A regex source matching any of ``words``, longest first, without backtracking blowup.

    ``["TP", "TP.", "TP.HCM"]`` → ``TP(?:\\.(?:HCM)?)?``.
    """
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _render(trie)


def _render(node: _Trie) -> str:
    branches = [re.escape(char) + _render(node[char]) for char in sorted(c for c in node if c)]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        # This node also ends a word: the longer continuation is optional (and tried first).
        return f"(?:{body})?"
    return body


_LAST_WORD = re.compile(r"(\w+) +$")


def _without_repeat(before: str, reading: str) -> str:
    """The reading without its first word when the text says that word just before.

    "Khu KCX Tân Thuận" → "Khu chế xuất Tân Thuận", not "Khu khu chế xuất"; "Ban BCĐ"
    → "Ban Chỉ đạo": writers often put the kind of body before its abbreviation.
    """
    last = _LAST_WORD.search(before)
    first, _, rest = reading.partition(" ")
    if last is not None and rest and last.group(1).casefold() == first.casefold():
        return rest
    return reading


@lru_cache(maxsize=8)
def make_rules(lexicon: Lexicon) -> tuple[Rule, ...]:
    """The abbreviation rules reading with ``lexicon`` (one per site lexicon, cached).

    The editors' site entries get a rule of their own, run first and named
    ``site_lexicon``, so the preview shows which readings came from the site file.
    """

    def pattern_of(keys: frozenset[str]) -> re.Pattern[str]:
        # Not inside a longer word ("UBND" in "UBNDX" is nothing); a form ending in a dot
        # may be glued to the next word ("TP.Lạng Sơn"), any other must end at a word
        # boundary.
        return re.compile(rf"(?<![\w&])(?:{trie_pattern(keys)})(?:(?<=\.)|(?![\w&]))")

    def verbalize(match: re.Match[str]) -> str | None:
        """UBND: Ủy ban nhân dân; công ty CP: cổ phần; CP alone: Chính phủ."""
        text = match.string
        before = text[max(0, match.start() - _CONTEXT) : match.start()]
        after = text[match.end() : match.end() + _CONTEXT]
        reading = lexicon.read(match.group(), before, after)
        if reading is not None:
            reading = _without_repeat(before, reading)
        if reading is not None and match.group().endswith(".") and not after.strip():
            # "… trên địa bàn TP.": the dot is also the sentence's full stop
            return reading + "."
        return reading

    builtin = Rule("abbreviation", pattern_of(lexicon.keys()), verbalize, PRIORITY)
    if not lexicon.site_keys:
        return (builtin,)
    site = Rule("site_lexicon", pattern_of(lexicon.site_keys), verbalize, PRIORITY - 1)
    return (site, builtin)


RULES: tuple[Rule, ...] = make_rules(Lexicon.builtin())
