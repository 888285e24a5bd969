"""Contract tests of the numeric rules: priorities, names, helpers, and odd input pinned.

How fast the normaliser reads the seed article is measured in ``bench/bench_normalizer.py``.
"""

from __future__ import annotations

import importlib
import logging

import pytest

from tts_service.text.data import load_tsv
from tts_service.text.pipeline import normalize_line
from tts_service.text.rules import numeric
from tts_service.text.rules.phone import read_phone
from tts_service.text.rules.roman_numeral import roman_to_int

MODULES = ("cardinal", "date", "fraction", "measure", "money", "ordinal", "phone", "ranges", "time")


@pytest.mark.parametrize("name", MODULES)
def test_module_exposes_rules(name: str) -> None:
    module = importlib.import_module(f"tts_service.text.rules.{name}")
    assert "RULES" in module.__all__
    assert module.RULES and all(rule.priority >= 200 for rule in module.RULES)


def test_numeric_rules_are_sorted_and_uniquely_named() -> None:
    names = [rule.name for rule in numeric.RULES]
    assert len(names) == len(set(names))
    priorities = [rule.priority for rule in numeric.RULES]
    assert priorities == sorted(priorities)
    assert len(set(priorities)) == len(priorities)


def test_load_tsv_returns_fresh_copies() -> None:
    rows = load_tsv("numbers/digit.tsv")
    rows[0][1] = "changed"
    assert load_tsv("numbers/digit.tsv")[0] == ["0", "không"]


@pytest.mark.parametrize(
    ("numeral", "value"), [("I", 1), ("II", 2), ("IV", 4), ("XVI", 16), ("MMXXI", 2021)]
)
def test_roman_to_int(numeral: str, value: int) -> None:
    assert roman_to_int(numeral) == value


@pytest.mark.parametrize("bad", ["", "IIII", "VX", "IC", "ii", "ABC"])
def test_roman_to_int_rejects(bad: str) -> None:
    assert roman_to_int(bad) is None


@pytest.mark.parametrize("bad", ["0912 345", "09123456789012", "+84 0912 345 678", "1234567890"])
def test_read_phone_declines_wrong_lengths(bad: str) -> None:
    assert read_phone(bad) is None


# Odd input, through the whole pipeline: what a listener hears, pinned, so that a rule that
# starts reading one of them differently (or raising, which the pipeline logs and
# swallows) fails here.
ODD_INPUTS = [
    ("Covid-19", "cô vít mười chín"),
    (
        "15/2021/NĐ-CP",
        "mười lăm năm hai nghìn không trăm hai mươi mốt nghị định Chính phủ",
    ),
    ("123/QĐ-UBND", "một trăm hai mươi ba quyết định Ủy ban nhân dân"),
    ("KT-XH", "kinh tế - xã hội"),
    # Dashes and pluses before words are list marks, silent.
    ("-A A +A", "A A A"),
    ("--5", "năm"),
    # A plus sign alone is silent too: a country code "+84" is "tám mươi tư".
    ("+84", "tám mươi tư"),
    # No day 32, no month 13: the numbers, never a date.
    ("ngày 32/13/2021", "ngày ba mươi hai mười ba hai nghìn không trăm hai mươi mốt"),
    # No fifth quarter: not "quý tháng năm năm …" (the month rule must not take 5/2021).
    ("quý 5/2021", "quý năm hai nghìn không trăm hai mươi mốt"),
    # No month 0: not a date, and not the fraction "không trên hai nghìn …".
    ("tháng 0/2021", "tháng không hai nghìn không trăm hai mươi mốt"),
    ("tháng 13/2021", "tháng mười ba hai nghìn không trăm hai mươi mốt"),
    ("1/2/3/4", "một hai ba bốn"),
    ("12:30:45:10", "mười hai: ba mươi: bốn mươi lăm: mười"),
    ("thứ 0", "thứ không"),
    ("0/0", "không trên không"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "spoken"), ODD_INPUTS)
def test_odd_inputs_read_as_pinned(text: str, spoken: str, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="tts_service.text.pipeline"):
        assert normalize_line(text) == spoken
    assert not caplog.records, caplog.text


@pytest.mark.parametrize(
    "text",
    ["phát triển KT-XH", "-A A +A", "Ban Thi đua - Khen thưởng", "Nguyễn Văn Lực - Phó Giám đốc"],
)
def test_dashes_without_numbers_are_left_to_other_rules(numeric_normalizer, text: str) -> None:
    document = numeric_normalizer.normalize(text)
    assert [r for sentence in document.sentences for r in sentence.rewrites] == []


def test_codes_are_not_dates() -> None:
    # 15/2021/NĐ-CP belongs to the legal-code rule; no date or fraction may claim part of it.
    assert normalize_line("Nghị định 15/2021/NĐ-CP") == (
        "Nghị định mười lăm năm hai nghìn không trăm hai mươi mốt nghị định Chính phủ"
    )


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        # ranges must rise: a score is not a range; its dash stays a pause
        ("thắng 2-1", "thắng hai - một"),
        ("1.5-2.5", "một phẩy năm đến hai phẩy năm"),
        ("1,000,000-2,000,000", "một triệu đến hai triệu"),
        # a yearless day range is a date even without a context word (nobody writes a
        # range of fractions): "mở lớp 8-9/7", a course held on the 8th and 9th of July
        ("lớp 8-9/7", "lớp ngày tám đến ngày chín tháng bảy"),
        # phones: an old ten-digit landline, a short hotline, a year before 1900
        ("0241234567", "không hai bốn, một hai ba, bốn năm sáu bảy"),
        ("1900 12345", "một nghìn chín trăm mười hai nghìn ba trăm bốn mươi lăm"),
        ("năm 1900 1234", "năm một nghìn chín trăm một nghìn hai trăm ba mươi tư"),
    ],
)
def test_edge_readings(written: str, spoken: str) -> None:
    assert normalize_line(written) == spoken
