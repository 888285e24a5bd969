"""Unit tests of the number reader shared by every numeric rule."""

from __future__ import annotations

import pytest

from tts_service.text.rules.cardinal import read_decimal, read_digits, read_number, read_numeral

READINGS = {
    "0": "không",
    "5": "năm",
    "10": "mười",
    "11": "mười một",
    "14": "mười bốn",
    "15": "mười lăm",
    "21": "hai mươi mốt",
    "24": "hai mươi tư",
    "25": "hai mươi lăm",
    "30": "ba mươi",
    "101": "một trăm linh một",
    "105": "một trăm linh năm",
    "110": "một trăm mười",
    "1000": "một nghìn",
    "1005": "một nghìn không trăm linh năm",
    "2015": "hai nghìn không trăm mười lăm",
    "2020": "hai nghìn không trăm hai mươi",
    "2021": "hai nghìn không trăm hai mươi mốt",
    "10000": "mười nghìn",
    "1005000": "một triệu không trăm linh năm nghìn",
    "1000000000": "một tỷ",
    "1000000005": "một tỷ không trăm linh năm",
    "1000000000000": "một nghìn tỷ",
    "1000000000000000000": "một tỷ tỷ",
    "007": "bảy",
    "": "không",
}


@pytest.mark.parametrize(("digits", "reading"), READINGS.items())
def test_read_number(digits: str, reading: str) -> None:
    assert read_number(digits) == reading, digits


@pytest.mark.parametrize("bad", ["12a", "1.000", "-5", "١٢", " 5"])
def test_read_number_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        read_number(bad)


def test_read_digits_skips_separators() -> None:
    assert read_digits("0912.345") == "không chín một hai ba bốn năm"


@pytest.mark.parametrize(
    ("integer", "fraction", "reading"),
    [
        ("0", "5", "không phẩy năm"),
        ("12", "25", "mười hai phẩy hai mươi lăm"),
        ("0", "05", "không phẩy không năm"),
        ("1", "00", "một phẩy không không"),
        ("3", "14159", "ba phẩy một bốn một năm chín"),
    ],
)
def test_read_decimal(integer: str, fraction: str, reading: str) -> None:
    assert read_decimal(integer, fraction) == reading


@pytest.mark.parametrize(
    ("written", "reading"),
    [
        ("1.250.000", "một triệu hai trăm năm mươi nghìn"),
        ("1,250,000", "một triệu hai trăm năm mươi nghìn"),
        ("12,5", "mười hai phẩy năm"),
        ("12.5", "mười hai phẩy năm"),
        ("1.250,75", "một nghìn hai trăm năm mươi phẩy bảy mươi lăm"),
        ("-5", "âm năm"),
        ("−0,5", "âm không phẩy năm"),
        ("+3", "cộng ba"),
    ],
)
def test_read_numeral(written: str, reading: str) -> None:
    assert read_numeral(written) == reading
