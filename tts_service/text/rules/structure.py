"""Sentence structure marks: list markers, initials, a top-level domain said as a word.

``list_marker`` (5)
    An item number at the start of a sentence, "1/", "2)" or "a)", is read as the item's
    number with a pause: "1/ Tăng cường …" → "một. Tăng cường …", "b) Đẩy mạnh …" →
    "bê. Đẩy mạnh …" (letters by their names in ``data/letters.tsv``). Only at the start
    and before a space, so "1/2" and "(2)" elsewhere are left to the other rules.
``domain_word`` (13)
    A top-level domain written alone, "tên miền .vn", "đuôi .com.vn": "chấm vê en", as in
    the full addresses of :mod:`.url` (which run first, 10–12).
``initials`` (38)
    Initials of an anonymised name, "N.V.K." or "T.T.H": spelled, "en nờ vê ca", never a
    Roman five for the V nor the "huyện" of "H. Cao Lộc"; before the abbreviations (40),
    whose one-letter forms ("H.", "P.") would read a letter of them as a place.
"""

from __future__ import annotations

import re

from tts_service.text.rules.acronym import spell
from tts_service.text.rules.base import Rule
from tts_service.text.rules.cardinal import read_number
from tts_service.text.rules.url import read_address

__all__ = ["RULES"]

_LIST_MARKER = re.compile(r"^\s*(?:(?P<n>[0-9]{1,2})[/)]|(?P<l>[a-zđ])\))(?=\s+\S)")


def _verbalize_list_marker(match: re.Match[str]) -> str:
    """1/ một.; 2) hai.; a) a.; đ) đê."""
    number = match.group("n")
    return f"{read_number(number) if number else spell(match.group('l'))}."


# ".vn", ".com" and the second-level domains under .vn: "đuôi .com.vn", ".gov.vn".
_DOMAIN = re.compile(
    r"(?=\.)(?<![\w.])\.(?:vn|com|net|org|gov|edu|info)(?:\.vn)?(?!\w|\.\w)", re.IGNORECASE
)


def _verbalize_domain(match: re.Match[str]) -> str:
    """.vn: chấm vê en; .com: chấm com."""
    return read_address(match.group().lower())


_INITIALS = re.compile(r"(?=[A-ZĐ])(?<![\w.])(?:[A-ZĐ]\.){2,}(?:[A-ZĐ](?![\w.]))?")


def _verbalize_initials(match: re.Match[str]) -> str:
    """N.V.K.: en nờ vê ca."""
    return spell(match.group().replace(".", ""))


RULES: tuple[Rule, ...] = (
    Rule("list_marker", _LIST_MARKER, _verbalize_list_marker, 5),
    Rule("domain_word", _DOMAIN, _verbalize_domain, 13, frozenset(".")),
    Rule("initials", _INITIALS, _verbalize_initials, 38, frozenset(".")),
)
