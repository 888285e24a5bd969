"""Party-style document codes written with a spaced dash: "số 532 - TB/TU".

Portals often put spaces around the dash of a Party code ("Thông báo số 532 - TB/TU",
"Kết luận 45 – KL/TU"); read as the unspaced code of :mod:`.legal_code` ("532-TB/TU"):
"năm trăm ba mươi hai thông báo Tỉnh ủy". Without this the "TB/TU" was read as a rate
(TB is also terabyte: "tê bê một Tỉnh ủy"). A known document type must open the letters
(``data/legal/types.tsv``), so a range such as "2015 - 2020" or "5 - KT/2" is not taken.

Priority 23, after the codes of :mod:`.legal_code` (20–22), before rates (35).
"""

from __future__ import annotations

import re

from tts_service.text.data import load_map
from tts_service.text.rules.base import ASCII_DIGITS, Rule
from tts_service.text.rules.legal_code import read_code

__all__ = ["RULES"]

_PART = r"[A-ZĐ][A-Za-zĐđ&]*[0-9]*"
_SPACED = re.compile(
    rf"(?=[0-9])(?<![\w/.,-])(?P<number>[0-9]{{1,5}})\s+[-–]\s+"
    rf"(?P<type>[A-ZĐ][A-Za-zĐđ]*)/(?P<code>{_PART}(?:-{_PART})*)(?![\w/&-])"
)


def _verbalize(match: re.Match[str]) -> str | None:
    """532 - TB/TU: năm trăm ba mươi hai thông báo Tỉnh ủy."""
    if match.group("type") not in load_map("legal/types.tsv"):
        return None
    return read_code(match.group("number"), None, f"{match.group('type')}/{match.group('code')}")


RULES: tuple[Rule, ...] = (Rule("legal_code", _SPACED, _verbalize, 23, ASCII_DIGITS),)
