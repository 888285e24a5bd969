"""Look-alike letters, leftover entities and glued date words (tts_service/text/fold.py)."""

from __future__ import annotations

import unicodedata

import pytest

from tts_service.text import fold
from tts_service.text.pipeline import normalize_line


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("NÐ-CP", "NĐ-CP"),  # Latin capital eth U+00D0
        ("ðồng", "đồng"),  # Latin small eth U+00F0
        ("Hà N\u043ei", "Hà Noi"),  # Cyrillic о inside a Latin word
        ("\u0421ông an", "Công an"),  # Cyrillic С at the start of a word
        ("\u039cặt trận", "Mặt trận"),  # Greek Μ
        ("Москва", "Москва"),  # Russian quoted whole: no Latin letter, left alone
        ("KH&ĐT", "KH&ĐT"),
    ],
)
def test_fold_lookalikes(written: str, folded: str) -> None:
    assert fold.fold_lookalikes(written) == folded


def test_folded_base_letter_composes_with_its_marks() -> None:
    # Cyrillic о + horn + acute: once folded, NFC makes it one "ớ"
    written = "Lạng S\u043e\u031bn"
    assert fold.fold_lookalikes(written) == "Lạng Sơn"
    assert unicodedata.is_normalized("NFC", fold.fold_lookalikes(written))


@pytest.mark.parametrize(
    ("written", "decoded"),
    [
        ("Hội nghị&nbsp;tổng kết", "Hội nghị\xa0tổng kết"),
        ("a&#160;b &#x41;", "a\xa0b A"),
        ("R&D, KH&ĐT, & và", "R&D, KH&ĐT, & và"),
        # Escaped twice (text pasted from a page that escaped its entities): an entity
        # under "&amp;" is decoded through, never read "và nbsp"; "&amp;" alone is "&".
        ("&amp;nbsp;", "\xa0"),
        ("&amp;#8211;", "\u2013"),
        ("&amp;amp; R&amp;D", "& R&D"),
    ],
)
def test_decode_entities(written: str, decoded: str) -> None:
    assert fold.decode_entities(written) == decoded


@pytest.mark.parametrize(
    ("written", "spaced"),
    [
        ("tháng8/1945", "tháng 8/1945"),
        ("Ngày15/3", "Ngày 15/3"),
        ("quý02/2021", "quý 02/2021"),
        ("tháng tám", "tháng tám"),
        ("5tháng", "5tháng"),
    ],
)
def test_space_after_date_word(written: str, spaced: str) -> None:
    assert fold.space_after_date_word(written) == spaced


def test_pipeline_reads_a_legal_code_written_with_eth() -> None:
    assert normalize_line("Nghị định 100/2019/NÐ-CP") == normalize_line("Nghị định 100/2019/NĐ-CP")


def test_pipeline_reads_decomposed_text_with_a_lookalike() -> None:
    written = unicodedata.normalize("NFD", "Công ty Điện lực").replace("Đ", "Ð")
    assert normalize_line(written) == "Công ty Điện lực"


def test_leftover_entity_is_a_space_not_words() -> None:
    assert normalize_line("Tổng kết&nbsp;năm 2023") == (
        "Tổng kết năm hai nghìn không trăm hai mươi ba"
    )


def test_twice_escaped_entity_in_plain_text_is_not_read() -> None:
    assert normalize_line("Báo cáo &amp;nbsp; kết quả") == "Báo cáo kết quả"
