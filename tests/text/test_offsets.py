"""Mapping cleaned positions back to the text as written."""

from __future__ import annotations

import unicodedata

from tts_service.text.offsets import OffsetMap
from tts_service.text.pipeline import Normalizer


def span(original: str, cleaned: str, part: str) -> str:
    positions = OffsetMap(original, cleaned)
    start = cleaned.index(part)
    return original[positions.start(start) : positions.end(start + len(part))]


def test_identity() -> None:
    assert span("UBND tỉnh", "UBND tỉnh", "tỉnh") == "tỉnh"


def test_collapsed_spaces_and_nbsp() -> None:
    original = "Vy\xa0\xa0\xa0   Quản và   UBND"
    cleaned = Normalizer().clean(original)
    assert cleaned == "Vy Quản và UBND"
    assert span(original, cleaned, "UBND") == "UBND"
    assert span(original, cleaned, "Quản và") == "Quản và"


def test_decomposed_letters_widen_to_the_whole_letter() -> None:
    original = unicodedata.normalize("NFD", "Huế UBND Đảng")
    cleaned = unicodedata.normalize("NFC", original)
    assert span(original, cleaned, "UBND") == "UBND"
    assert span(original, cleaned, "Huế") == original[: original.index(" ")]


def test_inserted_space() -> None:
    original = "công chức,viên chức UBND"
    cleaned = "công chức, viên chức UBND"
    assert span(original, cleaned, "viên") == "viên"
    assert span(original, cleaned, "UBND") == "UBND"


def test_falls_back_when_lost() -> None:
    original = "a" * 30 + "UBND"
    cleaned = "b" * 3 + "UBND"
    assert span(original, cleaned, "UBND") == "UBND"
