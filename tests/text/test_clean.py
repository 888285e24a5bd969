"""Cleaning steps, one at a time, and the default order in ``steps.py``."""

from __future__ import annotations

import unicodedata

import pytest

from tts_service.text import clean
from tts_service.text.steps import DEFAULT_STEPS


def run_steps(text: str) -> str:
    for step in DEFAULT_STEPS:
        text = step(text)
    return text


def test_nfc_composes_decomposed_text() -> None:
    decomposed = unicodedata.normalize("NFD", "Huế, Đảng bộ")
    assert decomposed != "Huế, Đảng bộ"
    assert clean.nfc(decomposed) == "Huế, Đảng bộ"


@pytest.mark.parametrize(
    ("written", "cleaned"),
    [
        ("hoà bình", "hòa bình"),
        ("Hoà Bình", "Hòa Bình"),
        ("HOÀ BÌNH", "HÒA BÌNH"),
        ("Uỷ ban", "Ủy ban"),
        ("thuý", "thúy"),
        ("khoẻ", "khỏe"),
        ("tuỳ", "tùy"),
        ("luỹ kế", "lũy kế"),
        ("Thuỵ Điển", "Thụy Điển"),
        ("xoè", "xòe"),
        # Closed syllables are written alike in both styles.
        ("hoàn thành", "hoàn thành"),
        ("ngoài", "ngoài"),
        ("khuỳnh", "khuỳnh"),
        # "qu" is a consonant: the tone of "quý" is already on the vowel.
        ("quý", "quý"),
        ("Quỹ", "Quỹ"),
        ("quỳ", "quỳ"),
        # Already new style.
        ("hòa", "hòa"),
    ],
)
def test_tone_marks_move_to_the_new_style(written: str, cleaned: str) -> None:
    assert clean.normalize_tone_marks(written) == cleaned


def test_control_and_zero_width_characters_are_removed() -> None:
    assert clean.remove_control_chars("thi\u200bđua\u00ad khen\x07 thưởng\ufeff") == (
        "thiđua khen thưởng"
    )
    assert clean.remove_control_chars("dòng một\ndòng hai") == "dòng một\ndòng hai"


def test_odd_spaces_become_plain_spaces() -> None:
    assert clean.normalize_spaces("Hội\xa0nghị\u2009tỉnh\ttổ\u3000chức") == "Hội nghị tỉnh tổ chức"
    assert clean.normalize_spaces("một\r\nhai\rba\u2028bốn") == "một\nhai\nba\nbốn"


@pytest.mark.parametrize(
    ("written", "cleaned"),
    [
        ("công chức,viên chức", "công chức, viên chức"),
        ("cán bộ;công chức", "cán bộ; công chức"),
        ("Lưu ý:Cần", "Lưu ý: Cần"),
        ("12,5 tỷ", "12,5 tỷ"),
        ("10:30", "10:30"),
        ("chức,5 người", "chức,5 người"),
        ("VH,TT&DL", "VH,TT&DL"),
        ("công chức, viên chức", "công chức, viên chức"),
    ],
)
def test_space_after_comma_only_between_letters(written: str, cleaned: str) -> None:
    assert clean.space_after_comma(written) == cleaned


def test_collapse_spaces_keeps_paragraph_breaks() -> None:
    text = "  Vy    Quản  \n\n\n\n   Sở Kế hoạch  \nvà Đầu tư "
    assert clean.collapse_spaces(text) == "Vy Quản\n\nSở Kế hoạch\nvà Đầu tư"


def test_default_steps_together() -> None:
    written = unicodedata.normalize("NFD", "\u00a0 Uỷ ban\u200b nhân dân,công chức\xa0\xa0 hoà ")
    assert run_steps(written) == "Ủy ban nhân dân, công chức hòa"


def test_steps_are_a_tuple_of_documented_functions() -> None:
    assert isinstance(DEFAULT_STEPS, tuple)
    assert DEFAULT_STEPS[0] is clean.nfc
    for step in DEFAULT_STEPS:
        assert step.__doc__, step.__name__


@pytest.mark.parametrize("step", DEFAULT_STEPS, ids=lambda s: s.__name__)
def test_every_step_is_idempotent(step) -> None:
    text = "Uỷ ban\u00a0 nhân dân,công chức\n\n\n 12,5  hoà\u200b"
    once = step(text)
    assert step(once) == once
