"""Property tests: no reading keeps a digit, no rule raises, and the number reader never fails."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts_service.text.pipeline import Normalizer
from tts_service.text.rules.cardinal import read_digits, read_number

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


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS)
def test_no_reading_contains_an_ascii_digit(
    numeric_normalizer: Normalizer, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tts_service.text.pipeline"):
        document = numeric_normalizer.normalize(text)
    # A rule that raises is logged and skipped by the pipeline: here that fails.
    assert not caplog.records, (text, caplog.text)
    for sentence in document.sentences:
        for rewrite in sentence.rewrites:
            assert not any("0" <= c <= "9" for c in rewrite.spoken), (text, rewrite)
