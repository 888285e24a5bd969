"""Road numbers and kilometre posts: QL1A, QL.4B, ĐT.226, TL 279, Km 15+500.

"QL1A" is read "quốc lộ một a" (the prefix in words, the number as a number, a trailing
letter by its name), "ĐT.226" "đường tỉnh hai trăm hai mươi sáu" and "Km 15+500" "ki
lô mét mười lăm cộng năm trăm". Prefixes and readings are ``data/road.tsv``.

Several prefixes are also common abbreviations (ĐT điện thoại, ĐH đại học, CT chỉ
thị), so a road needs a number of at most three digits after the prefix and a dot or one
space (glued only for "QL" and "Km"), and nothing glued after it: "ĐT.226" is a road,
"ĐT: 0912 345 678", "ĐH 2023" and the load class "HL93" are not. A lower-case "km"
is a kilometre post only with its metres ("km 32+200"): "12 km 500 m" is a length.

Priority 38: before abbreviations (40), which would read the "ĐT" of "ĐT.226" as
"điện thoại", and before the acronym spelling of "QL1A" (75).
"""

from __future__ import annotations

import re

from tts_service.text.data import load_map
from tts_service.text.rules.acronym import spell
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.cardinal import WORDS, read_number

__all__ = ["RULES", "read_road"]

_PREFIXES: dict[str, str] = load_map("road.tsv")
# Prefixes written glued to the number: QL1A, Km15; the others take a dot or a space.
_GLUED = frozenset({"QL", "Km", "KM"})
_PREFIX = "|".join(re.escape(p) for p in sorted(_PREFIXES, key=len, reverse=True))
_ROAD = re.compile(
    rf"(?<![\w&./-])(?P<prefix>{_PREFIX})(?:\.\s?|\s)?(?P<number>[0-9]{{1,3}})"
    # Not the start of a phone number: "ĐT 024 3825 1234"
    r"(?P<letter>[A-Z])?(?:\+(?P<metres>[0-9]{1,3}))?(?![\w/-]|[.,][0-9]|[ .-][0-9]{3})"
)


def read_road(
    prefix: str, number: str, letter: str | None = None, metres: str | None = None
) -> str:
    """``("QL", "1", "A")`` → "quốc lộ một a"; ``("Km", "15", None, "500")`` → "… cộng năm trăm"."""
    words = [_PREFIXES[prefix], read_number(number)]
    if letter:
        # QL1A: quốc lộ một a
        words.append(spell(letter))
    if metres:
        # Km 15+500: ki lô mét mười lăm cộng năm trăm
        words += [WORDS["plus"], read_number(metres)]
    return " ".join(words)


def _verbalize(match: re.Match[str]) -> str | None:
    """QL1A: quốc lộ một a; ĐT.226: đường tỉnh hai trăm hai mươi sáu."""
    prefix, number = match.group("prefix", "number")
    if number.startswith("0") and len(number) > 1 and prefix != "CT":
        # ĐT 024: a phone number; only expressways are numbered 01, 02 … (CT.01)
        return None
    if prefix == "km" and not match.group("metres"):
        # "dài 12 km 500 m": a lower-case km is a kilometre post only as "km 32+200"
        return None
    if prefix not in _GLUED and match.group().startswith(prefix + number):
        # HL93 (a load class), TL1: only a national road is written glued, QL1A
        return None
    if prefix == "CT" and not match.group("letter") and "." not in match.group():
        # CT 05: a directive (chỉ thị) far more often than an expressway
        return None
    return read_road(*match.group("prefix", "number", "letter", "metres"))


RULES: tuple[Rule, ...] = (Rule("road", _ROAD, _verbalize, 38, ASCII_DIGITS),)
