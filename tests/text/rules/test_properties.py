"""Property tests: no reading keeps a digit, and the number reader never fails."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tts_service.text.rules.cardinal import read_digits, read_number
from tts_service.text.rules.numeric import RULES

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=30)
# Digits, the separators numbers are written with, and the words rules look for.
PIECES = st.sampled_from(
    [
        *"0123456789",
        *"0123456789",
        ".",
        ",",
        "/",
        "-",
        "–",
        ":",
        " ",
        "(",
        ")",
        "+",
        "%",
        "h",
        "g",
        "'",
        "đ",
        "$",
        "°C",
        " km",
        " m2",
        " ha",
        " USD",
        " đồng",
        " triệu",
        " tỷ",
        "ngày ",
        "tháng ",
        "năm ",
        "quý ",
        "thứ ",
        "hạng ",
        "từ ",
        " đến ",
        "Sáng ",
        " giờ ",
        " phút",
        "II",
        "IV",
        "+84 ",
        "tỷ lệ ",
        "a",
        "Covid-",
    ]
)
TEXTS = st.lists(PIECES, max_size=25).map("".join)


@given(DIGITS)
def test_read_number_reads_any_digit_string(digits: str) -> None:
    reading = read_number(digits)
    assert reading
    assert not any(c.isdigit() for c in reading)


@given(DIGITS)
def test_read_digits_says_every_digit(digits: str) -> None:
    assert len(read_digits(digits).split()) == len(digits)


@settings(max_examples=400)
@given(TEXTS)
def test_no_reading_contains_an_ascii_digit(text: str) -> None:
    for rule in RULES:
        for match in rule.pattern.finditer(text):
            reading = rule.verbalize(match)
            if reading is not None:
                assert not any("0" <= c <= "9" for c in reading), (rule.name, text, reading)
