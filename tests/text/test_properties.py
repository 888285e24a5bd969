"""Properties of the whole normaliser on generated Vietnamese-like text (hypothesis)."""

from __future__ import annotations

import logging
import re
import unicodedata

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


# Capitals, digits and the sub- and superscript digits of formulas and powers ("CO₂", "B²"),
# with the words dates are written after: what made rules raise ("quý 5/2021" too).
FORMULA_PIECES = st.sampled_from(
    ["CO", "H", "O", "B", "SO", "₂", "₄", "²", "³", "¹⁰", "2", "5", "0", "/", "2021", " "]
    + ["quý ", "tháng ", "ngày ", "-", "."]
)
ANY_TEXT = st.one_of(st.text(max_size=300), st.lists(FORMULA_PIECES, max_size=20).map("".join))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ANY_TEXT)
def test_never_raises_and_spans_match(caplog: pytest.LogCaptureFixture, text: str) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tts_service.text.pipeline"):
        document = normalize(text)
    # The pipeline logs a rule that raises and reads on without it: that must never happen.
    assert not caplog.records, (text, caplog.text)
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
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tts_service.text.pipeline"):
        once = normalize(text).spoken_text
        assert normalize(once).spoken_text == once, text
    assert not caplog.records, caplog.text


NUMBER_FORMS = (
    "{n}",
    "{dotted}",
    "{n},5",
    "{n}%",
    "{n} km",
    "{n} tỷ đồng",
    "ngày {d}/{m}/{y}",
    "tháng {m}/{y}",
    "{y} - {y2}",
    "{y}-{y2}",
    "số {n}/{y}/NĐ-CP",
    "lúc {h}h{mi:02d}",
)


@st.composite
def text_with_numbers(draw: st.DrawFn) -> str:
    """Portal phrases with numbers in the forms portals write them, anywhere in a sentence."""
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(PHRASES)))
        else:
            form = draw(st.sampled_from(NUMBER_FORMS))
            y = draw(st.integers(1900, 2100))
            n = draw(st.integers(0, 10**12))
            parts.append(
                form.format(
                    n=n,
                    dotted=f"{n:,}".replace(",", "."),
                    d=draw(st.integers(1, 28)),
                    m=draw(st.integers(1, 12)),
                    y=y,
                    y2=y + draw(st.integers(1, 10)),
                    h=draw(st.integers(0, 23)),
                    mi=draw(st.integers(0, 59)),
                )
            )
        parts[-1] += draw(st.sampled_from(MARKS))
    return " ".join(parts).rstrip(",;:") + draw(st.sampled_from(ENDS))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text_with_numbers())
def test_no_digit_survives(caplog: pytest.LogCaptureFixture, text: str) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tts_service.text.pipeline"):
        spoken = normalize(text).spoken_text
    assert not caplog.records, (text, caplog.text)
    assert not any(ch in "0123456789" for ch in spoken), (text, spoken)


def _key(word: str) -> str:
    """A word without tone marks or case: "hoà" and "Hòa" are the same word read aloud."""
    decomposed = unicodedata.normalize("NFD", word.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(vietnamese_like(), text_with_numbers()))
def test_every_word_is_read_or_replaced_by_a_reading(text: str) -> None:
    for sentence in normalize(text).sentences:
        spoken = {_key(w) for w in re.findall(r"\w+", sentence.spoken)}
        for match in re.finditer(r"\w+", sentence.text):
            start = sentence.start + match.start()
            if any(r.start <= start < r.end for r in sentence.rewrites):
                continue
            assert _key(match.group()) in spoken, (text, match.group(), sentence.spoken)
