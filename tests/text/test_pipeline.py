"""The normaliser end to end: sentences, units, rewrites, lexicons, the seed article."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import unicodedata
from pathlib import Path

import pytest

import tts_service.text.rules as rules_package
from tts_service.text.lexicon import Lexicon
from tts_service.text.model import Document
from tts_service.text.pipeline import NORMALIZER_VERSION, Normalizer, normalize, normalize_line
from tts_service.text.rules import registered_rules
from tts_service.text.rules.base import Rule


def test_document_shape() -> None:
    source = "UBND tỉnh họp.\n\nToàn cảnh hội nghị\n"
    document = normalize(source)
    assert isinstance(document, Document)
    assert [s.text for s in document.sentences] == ["UBND tỉnh họp.", "Toàn cảnh hội nghị"]
    assert [s.index for s in document.sentences] == [0, 1]
    assert [s.paragraph for s in document.sentences] == [0, 1]
    assert document.spoken_text == "Ủy ban nhân dân tỉnh họp.\n\nToàn cảnh hội nghị"


def test_one_rule_match_is_one_unit_and_punctuation_stays_on_words() -> None:
    (sentence,) = normalize("Theo đó, HĐND, UBND tỉnh (Cụm trưởng) đã họp.").sentences
    assert sentence.units == (
        "Theo",
        "đó,",
        "Hội đồng nhân dân,",
        "Ủy ban nhân dân",
        "tỉnh",
        "(Cụm",
        "trưởng)",
        "đã",
        "họp.",
    )
    assert sentence.spoken == " ".join(sentence.units)


def test_rewrites_point_into_the_input() -> None:
    source = "\xa0 Văn phòng UBND tỉnh,công chức HĐND.\nDòng hai có TĐKT."
    document = normalize(source)
    rewrites = [r for s in document.sentences for r in s.rewrites]
    assert [(r.source, r.spoken, r.rule) for r in rewrites] == [
        ("UBND", "Ủy ban nhân dân", "abbreviation"),
        ("HĐND", "Hội đồng nhân dân", "abbreviation"),
        ("TĐKT", "thi đua khen thưởng", "abbreviation"),
    ]
    for rewrite in rewrites:
        assert source[rewrite.start : rewrite.end] == rewrite.source


def test_rewrite_offsets_survive_decomposed_input() -> None:
    source = unicodedata.normalize("NFD", "Hội đồng nhân dân và UBND tỉnh Lạng Sơn")
    (sentence,) = normalize(source).sentences
    (rewrite,) = sentence.rewrites
    assert source[rewrite.start : rewrite.end] == "UBND"
    assert sentence.text == source
    assert sentence.spoken == "Hội đồng nhân dân và Ủy ban nhân dân tỉnh Lạng Sơn"


def test_sentences_with_nothing_to_say_are_dropped() -> None:
    document = normalize("* * *\n\n• \n\nHết.")
    assert [s.spoken for s in document.sentences] == ["Hết."]
    assert document.sentences[0].paragraph == 0
    assert normalize("").sentences == ()
    assert normalize_line("   ") == ""


def test_quotes_and_bullets_are_silent() -> None:
    assert normalize_line("• “Thi đua” là yêu nước") == "Thi đua là yêu nước"
    assert normalize_line("- Nội dung một;") == "Nội dung một;"


def test_tilde_reads_khoang() -> None:
    # "~" cannot be written in a case file, where it separates readings.
    assert normalize_line("~50 người") == "khoảng năm mươi người"


def test_normalize_line_joins_sentences() -> None:
    assert normalize_line("Câu một. Câu hai.") == "Câu một. Câu hai."


def test_site_lexicon_wins_over_builtin(tmp_path: Path) -> None:
    path = tmp_path / "site.tsv"
    path.write_text(
        "# site entries\nUBND\tỦy ban Nhân dân\nCP\tcổ phần\nBQLDA\tBan quản lý dự án\n",
        encoding="utf-8",
    )
    lexicon = Lexicon.load(path)
    assert normalize_line("UBND tỉnh") == "Ủy ban nhân dân tỉnh"
    assert normalize("UBND tỉnh, CP", lexicon=lexicon).sentences[0].spoken == (
        "Ủy ban Nhân dân tỉnh, cổ phần"
    )
    assert lexicon.fingerprint != Lexicon.builtin().fingerprint


def test_custom_steps_and_rules() -> None:
    shout = Rule("shout", re.compile(r"\bhọp\b"), lambda m: m.group().upper())
    normalizer = Normalizer(steps=(str.strip,), rules=(shout,))
    (sentence,) = normalizer.normalize("UBND họp").sentences
    assert sentence.spoken == "UBND HỌP"
    assert sentence.rewrites[0].rule == "shout"


def test_earlier_claims_win_and_declines_fall_through() -> None:
    first = Rule("first", re.compile(r"ab"), lambda m: "một", priority=1)
    declined = Rule("declined", re.compile(r"c"), lambda m: None, priority=2)
    later = Rule("later", re.compile(r"bc"), lambda m: "hai", priority=3)
    last = Rule("last", re.compile(r"c"), lambda m: "ba", priority=4)
    normalizer = Normalizer(rules=(last, later, declined, first))
    assert [r.name for r in normalizer.rules] == ["first", "declined", "later", "last"]
    (sentence,) = normalizer.normalize("abc").sentences
    assert sentence.units == ("một", "ba")


def test_a_failing_rule_declines_and_logs_where_not_what(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(match: re.Match[str]) -> str:
        # Quotes the text in its message, as int() and friends do.
        raise KeyError(match.group())

    draft = "Bản thảo mật: ông Nguyễn Văn Hùng nhận 12a triệu đồng."
    normalizer = Normalizer(rules=(Rule("broken", re.compile(r"Hùng nhận 12a"), broken),))
    with caplog.at_level(logging.DEBUG):
        assert normalizer.normalize(draft).sentences[0].spoken == draft
    assert "broken" in caplog.text and "KeyError" in caplog.text
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    for fragment in ("Hùng", "12a", "Nguyễn"):
        assert fragment not in logged


def test_registry_includes_every_rule_module() -> None:
    names = {rule.name for rule in registered_rules()}
    for module_info in pkgutil.iter_modules(rules_package.__path__):
        module = importlib.import_module(f"{rules_package.__name__}.{module_info.name}")
        for rule in getattr(module, "RULES", ()):
            assert rule.name in names, f"{module_info.name}: {rule.name} is not registered"
    priorities = [rule.priority for rule in registered_rules()]
    assert priorities == sorted(priorities)


def test_version_is_a_string() -> None:
    assert isinstance(NORMALIZER_VERSION, str) and NORMALIZER_VERSION


# --- the seed article --------------------------------------------------------------


def test_seed_article(seed_text: str) -> None:
    document = normalize(seed_text)
    spoken = document.spoken_text
    for sentence in document.sentences:
        assert seed_text[sentence.start : sentence.end] == sentence.text
        for rewrite in sentence.rewrites:
            assert seed_text[rewrite.start : rewrite.end] == rewrite.source
            assert sentence.start <= rewrite.start < rewrite.end <= sentence.end
    assert "Hội đồng nhân dân, Ủy ban nhân dân tỉnh" in spoken
    assert "Hội đồng thi đua khen thưởng tỉnh" in spoken
    assert "lần thứ mười sáu" in spoken
    assert "công chức, viên chức" in spoken
    assert "cô vít mười chín" in spoken
    for leftover in ("UBND", "HĐND", "TĐKT", "XVI", "PDF", "\xa0"):
        assert leftover not in spoken
    assert not re.search(r"[0-9]", spoken), re.findall(r"\S*[0-9]\S*", spoken)
    assert [s.text for s in document.sentences][-2:] == ["Vy Quản", "Sở Kế hoạch và Đầu tư"]
