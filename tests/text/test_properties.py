"""Properties of the whole normaliser on generated Vietnamese-like text (hypothesis)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts_service.text.pipeline import normalize

# Phrases of portal text, each a realistic context for the rules: abbreviations,
# codes, numbers, Roman numerals after their context word, acronyms, addresses.
PHRASES = (
    "Ủy ban nhân dân tỉnh Lạng Sơn",
    "hội nghị thi đua khen thưởng",
    "cán bộ, công chức, viên chức",
    "Sở Kế hoạch và Đầu tư",
    "phát triển kinh tế - xã hội",
    "hòa bình",
    "hoà bình",
    "thuý",
    "Uỷ ban",
    "dịch Covid-19",
    "UBND",
    "HĐND tỉnh",
    "Hội đồng TĐKT",
    "Sở KH&ĐT",
    "KT-XH",
    "TP.HCM",
    "TP. Lạng Sơn",
    "lần thứ XVI",
    "khóa XV",
    "quý II, III và IV",
    "thế kỷ XXI",
    "Đại hội XIII",
    "file PDF",
    "chỉ số GDP",
    "khối ASEAN",
    "bệnh nhân F0",
    "đội U23",
    "Nghị định số 15/2021/NĐ-CP",
    "Quyết định 123/QĐ-UBND",
    "Nghị quyết 35-NQ/TW",
    "ngày 09/7/2021",
    "6 tháng đầu năm 2021",
    "12,5 tỷ đồng",
    "1.250.000 người",
    "lúc 10:30",
    "tăng 50%",
    "số 0912 345 678",
    "langson.gov.vn",
    "vanphong@langson.gov.vn",
    "#CovidVN",
    "công ty CP",
    "TT Y tế",
    "ĐBQH",
    "QUYẾT ĐỊNH VỀ VIỆC",
    "TIN TỨC",
    "A & B",
    "2 + 3",
    "Nguyễn Văn A",
    "(Cụm trưởng)",
    "“Thi đua”",
    "Lực - Phó Giám đốc",
)
MARKS = ("", "", "", ",", ";", ":")
ENDS = ("", ".", "!", "?", "...")
HEADINGS = ("", "", "", "I. ", "II. ", "- ", "• ")


@st.composite
def vietnamese_like(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        sentences = []
        for _ in range(draw(st.integers(1, 3))):
            phrases = [
                draw(st.sampled_from(PHRASES)) + draw(st.sampled_from(MARKS))
                for _ in range(draw(st.integers(1, 6)))
            ]
            sentence = " ".join(phrases).rstrip(",;:")
            sentences.append(sentence[:1].upper() + sentence[1:] + draw(st.sampled_from(ENDS)))
        lines.append(draw(st.sampled_from(HEADINGS)) + " ".join(sentences))
    return draw(st.sampled_from(["\n", "\n\n", "\r\n"])).join(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_never_raises_and_spans_match(text: str) -> None:
    document = normalize(text)
    for sentence in document.sentences:
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.units and all(unit.strip() == unit and unit for unit in sentence.units)
        for rewrite in sentence.rewrites:
            assert text[rewrite.start : rewrite.end] == rewrite.source


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=vietnamese_like())
def test_idempotent_on_vietnamese_like_text(text: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tts_service.text.pipeline"):
        once = normalize(text).spoken_text
        assert normalize(once).spoken_text == once, text
    assert not caplog.records, caplog.text
