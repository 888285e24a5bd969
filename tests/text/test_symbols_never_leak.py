"""No ``/ _ | # * ~ ^`` ever reaches the spoken text: each is read or dropped by a rule.

Generated text puts the marks everywhere portal text has them (between words and numbers,
glued or spaced, in addresses, codes, rates and list markers) and also anywhere at all.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.text.test_properties import PHRASES
from tts_service.text.pipeline import normalize
from tts_service.text.rules.stray_symbol import MARKS

PIECES = (
    *PHRASES,
    "25.000 đồng/kg",
    "15 tấn/ngày",
    "Nam/Nữ",
    "và/hoặc",
    "từ_khóa",
    "A | B",
    "ghi chú*",
    "m^2",
    "~50 người",
    "#1",
    "1/",
    "2)",
    "a)",
    "4/63",
    "540 tỷ/1.200 tỷ",
    "https://langson.gov.vn/tin_tuc/a|b",
    "van_phong@langson.gov.vn",
    "**",
    "*",
    "/",
    "_",
    "|",
    "#",
    "~",
    "^",
    "9 tháng/năm học",
    "học sinh/sinh viên",
    "(2,9 tỷ/3,1 tỷ)",
    "ngày/tháng/năm sinh",
    "65 triệu đồng/người/năm",
    "số 2345/UBND-KT",
    "532 - TB/TU",
    "BS: 12B1-567.89",
    "xe 30A-123.45",
    "IoT/AI",
    "4G/5G",
    "tháng8/1945",
    "3/ Chỉ thị",
)


@st.composite
def portal_text_with_marks(draw: st.DrawFn) -> str:
    """Portal phrases joined by spaces or glued by one of the marks."""
    parts = [draw(st.sampled_from(PIECES)) for _ in range(draw(st.integers(1, 8)))]
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from((" ", " ", *MARKS, f" {MARKS[0]} "))) + part
    return text + draw(st.sampled_from(("", ".", "*", " /", "#")))


def _leaks(text: str) -> set[str]:
    return set(normalize(text).spoken_text) & set(MARKS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portal_text_with_marks())
def test_no_mark_reaches_the_voice_in_portal_text(text: str) -> None:
    assert not _leaks(text), (text, normalize(text).spoken_text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("ab Đ1.,/_|#*~^-\n"), max_size=60))
def test_no_mark_reaches_the_voice_in_any_text(text: str) -> None:
    assert not _leaks(text), (text, normalize(text).spoken_text)


def test_each_mark_is_dropped_by_the_named_rule() -> None:
    sentence = normalize("Nam/Nữ, 3/ từ_khóa A|B ghi^chú*").sentences[0]
    assert sentence.spoken == "Nam, Nữ, ba từ khóa A B ghi chú"
    assert {r.source for r in sentence.rewrites if r.rule == "stray_symbol"} == set("/_|^*")


def test_a_slash_between_words_is_a_pause() -> None:
    # Two alternatives or two groups named together: "học sinh, sinh viên", never run on
    sentence = normalize("Mỗi học sinh/sinh viên được hỗ trợ, nam / nữ như nhau.").sentences[0]
    assert sentence.spoken == "Mỗi học sinh, sinh viên được hỗ trợ, nam, nữ như nhau."
    assert [r.source for r in sentence.rewrites if r.rule == "slash_pause"] == ["/", " / "]
