"""Invisible format characters cannot change what is read (clean-up removes them first)."""

from __future__ import annotations

import pytest

from tts_service.text.pipeline import normalize, normalize_line

PLAIN = "Ngày 09/07/2021, UBND tỉnh họp."
MARKS = ["\u2066", "\u2067", "\u2068", "\u2069", "\u202a", "\u202e", "\u200e", "\u200f", "\u00ad"]


@pytest.mark.parametrize("mark", MARKS, ids=lambda m: f"U+{ord(m):04X}")
def test_format_characters_do_not_change_a_date(mark: str) -> None:
    # A bidi isolate pasted into a date ("09⁩/07") must not stop it being read as one.
    written = f"Ngày 09{mark}/07/2021, UBND{mark} tỉnh họp."
    assert normalize_line(written) == (
        "ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt, Ủy ban nhân dân tỉnh họp."
    )


@pytest.mark.parametrize("mark", MARKS, ids=lambda m: f"U+{ord(m):04X}")
def test_rewrites_point_into_the_text_as_written(mark: str) -> None:
    written = f"Ngày 09{mark}/07/2021, UBND{mark} tỉnh họp."
    rewrites = normalize(written).sentences[0].rewrites
    # A mark right after an expression may be kept in its span; nothing else is.
    assert [r.source.replace(mark, "") for r in rewrites] == ["Ngày 09/07/2021", "UBND"]
    assert rewrites[0].source == f"Ngày 09{mark}/07/2021"
    assert all(written[r.start : r.end] == r.source for r in rewrites)
