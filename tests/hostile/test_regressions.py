"""The quadratic and exponential paths that were found, each at a size that shows it.

Each test times one component on an input of size ``n`` and ``4 n`` (see
:func:`tests.hostile.work.growth`): linear gives about 4, the old code 16 or far more.
Sizes are the smallest at which the old code failed clearly; components are tested
alone (one rule module, the splitter, the offset map) so their own cost is not diluted
by the rest of the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.hostile.work import growth
from tts_service.extract import extract_plain
from tts_service.extract.phrases import is_dateline
from tts_service.text.offsets import OffsetMap
from tts_service.text.pipeline import Normalizer
from tts_service.text.rules import acronym, numeric, roman, symbol, time, url
from tts_service.text.rules.base import Rule
from tts_service.text.sentences import split_sentences

MAX_GROWTH = 10.0


def _reader(rules: tuple[Rule, ...] | None = None) -> Callable[[str], None]:
    normalizer = Normalizer(rules=rules) if rules is not None else Normalizer()

    def read(text: str) -> None:
        normalizer.read(text)

    return read


def _check(run: Callable[[str], None], build: Callable[[int], str], n: int) -> None:
    ratio = growth(run, build, n)
    if ratio >= MAX_GROWTH:
        ratio = min(ratio, growth(run, build, n, runs=3))
    assert ratio < MAX_GROWTH, f"work for 4n is {ratio:.1f}× the work for n"


@pytest.mark.parametrize(
    "unit", ["cập nhật lúc ", "ngày cập nhật ", "ngày đăng ", "Thứ Sáu, ", "lúc | "]
)
def test_dateline_openers_do_not_backtrack(unit: str) -> None:
    # 16 repeats took a second before; each one more doubled it.
    _check(is_dateline, lambda n: unit * n + "x", 4)


def test_dateline_still_read_with_repeated_openers() -> None:
    assert is_dateline("Ngày đăng: Thứ Sáu, 09/07/2021 16:20")
    assert is_dateline("Cập nhật lúc 10:30 ngày 09/07/2021")
    assert not is_dateline("cập nhật lúc " * 20 + "x")


def test_long_token_of_hyphens() -> None:
    # A letter, 40,000 hyphens and a letter: 22 s.
    _check(_reader(()), lambda n: "a" + "-" * n + "a", 2500)


def test_closing_brackets_after_a_word() -> None:
    _check(_reader(()), lambda n: "a" + ")" * n, 10_000)


def test_roman_numerals() -> None:
    _check(_reader(roman.RULES), lambda n: "XVI " * n, 2500)


def test_roman_numerals_in_a_list() -> None:
    _check(_reader(roman.RULES), lambda n: "khóa " + "XVI, " * n + "x", 2500)


def test_capitalised_words() -> None:
    _check(_reader(acronym.RULES), lambda n: "HỘI BAN " * n, 2500)


def test_phone_numbers() -> None:
    _check(_reader(numeric.RULES), lambda n: "0912 345 678 " * n, 1000)


def test_symbols() -> None:
    _check(_reader(symbol.RULES), lambda n: "& " * n, 5000)


def test_ratio_times() -> None:
    _check(_reader(time.RULES), lambda n: "10:30 " * n, 2500)


def test_bracketed_dates() -> None:
    _check(_reader(numeric.RULES), lambda n: "(9/7 " * n, 2500)


def test_rate_chains() -> None:
    _check(_reader(numeric.RULES), lambda n: "đồng/" + "b/" * n, 2500)


def test_rate_chain_inside_an_address() -> None:
    _check(_reader(url.RULES + numeric.RULES), lambda n: "https://a.vn/" + "b/" * n, 1000)


def test_tone_marks_on_every_word() -> None:
    # Dense edits made the offset map fall back to aligning the whole text.
    _check(lambda text: OffsetMap(text, text.replace("oà", "òa")), lambda n: "hoà " * n, 500)


def test_sentence_splitter_on_dotted_runs() -> None:
    # underthesea walks back over the whole run before every dot.
    _check(split_sentences, lambda n: "a." * n, 5000)


@pytest.mark.parametrize("unit", ["TX. ", "A?"])
def test_sentence_merges(unit: str) -> None:
    _check(lambda t: split_sentences(t, abbreviations=("TX.",)), lambda n: unit * n, 5000)


def test_wrapped_plain_lines() -> None:
    _check(extract_plain, lambda n: "Tin\n" + "dòng tiếp\n" * n + "Bài.", 5000)


def test_long_dotted_run_is_one_sentence() -> None:
    run = "A." * 100
    spans = split_sentences(f"Mở đầu. {run} Kết thúc.")
    assert [s.text for s in spans] == ["Mở đầu.", run, "Kết thúc."]
