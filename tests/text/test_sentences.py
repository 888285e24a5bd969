"""Paragraph and sentence splitting with offsets into the text as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tts_service.text.lexicon import Lexicon
from tts_service.text.sentences import split_paragraphs, split_sentences

ROOT = Path(__file__).resolve().parents[2]


def texts(source: str, **kwargs) -> list[str]:
    return [span.text for span in split_sentences(source, **kwargs)]


def test_offsets_index_the_input() -> None:
    source = "  Câu một. Câu hai!\n\n\xa0\xa0Tiêu đề không dấu chấm\r\nCâu ba? "
    spans = split_sentences(source)
    assert [s.text for s in spans] == ["Câu một.", "Câu hai!", "Tiêu đề không dấu chấm", "Câu ba?"]
    assert [s.paragraph for s in spans] == [0, 0, 1, 2]
    for span in spans:
        assert source[span.start : span.end] == span.text


def test_each_line_is_a_paragraph() -> None:
    assert list(split_paragraphs("một\n\n  \nhai\nba")) == [(0, 3), (8, 11), (12, 14)]


def test_blank_text_has_no_sentence() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\xa0\n\t") == []


def test_headline_without_final_punctuation_is_its_own_sentence() -> None:
    assert texts("Toàn cảnh hội nghị\nPhát biểu tại Hội nghị, đồng chí Hoài.") == [
        "Toàn cảnh hội nghị",
        "Phát biểu tại Hội nghị, đồng chí Hoài.",
    ]


def test_lower_case_continuation_is_not_a_new_sentence() -> None:
    assert texts("Ông Nguyễn Văn A. là cán bộ. Ông B. đến.") == [
        "Ông Nguyễn Văn A. là cán bộ.",
        "Ông B. đến.",
    ]


def test_dotted_abbreviations_do_not_end_a_sentence() -> None:
    source = "Tại TX. Đồng Đăng, PGS.TS. Nguyễn Văn A phát biểu. Hội nghị kết thúc."
    assert texts(source, abbreviations=["TX.", "PGS.TS."]) == [
        "Tại TX. Đồng Đăng, PGS.TS. Nguyễn Văn A phát biểu.",
        "Hội nghị kết thúc.",
    ]


def test_heading_number_stays_with_its_heading() -> None:
    assert texts("II. Nội dung thực hiện") == ["II. Nội dung thực hiện"]
    assert texts("1. Mục đích. 2. Yêu cầu.") == ["1. Mục đích.", "2. Yêu cầu."]


def test_numbers_and_codes_are_not_cut() -> None:
    source = "Giá 12.500.000 đồng theo Nghị định số 15/2021/NĐ-CP. Hết."
    assert texts(source) == ["Giá 12.500.000 đồng theo Nghị định số 15/2021/NĐ-CP.", "Hết."]


def test_a_dot_glued_to_a_number_ends_no_sentence() -> None:
    # "ĐT.226" is a road, "CT.01" an expressway: no space after the dot
    assert texts("Tuyến ĐT.226 được mở rộng. Xong.") == ["Tuyến ĐT.226 được mở rộng.", "Xong."]


def dotted(source: str) -> list[str]:
    """Sentences as the pipeline cuts them, with the lexicon's dotted abbreviations."""
    return texts(source, abbreviations=Lexicon.builtin().dotted_prefixes())


def test_an_abbreviations_full_stop_can_end_the_sentence() -> None:
    # "TP." before a list item or a word that opens sentences ends the first sentence;
    # before a place name it does not
    assert dotted("Kiểm tra trên địa bàn TP. 3/ Báo cáo kết quả.") == [
        "Kiểm tra trên địa bàn TP.",
        "3/ Báo cáo kết quả.",
    ]
    assert dotted("Việc này do TP. Tuy nhiên, tỉnh chưa làm.") == [
        "Việc này do TP.",
        "Tuy nhiên, tỉnh chưa làm.",
    ]
    assert dotted("Camera tại TP. Lạng Sơn được lắp.") == ["Camera tại TP. Lạng Sơn được lắp."]


def test_initials_stay_whole_and_an_initial_after_a_name_ends_the_sentence() -> None:
    assert dotted("Bà T.T.H cho biết như vậy.") == ["Bà T.T.H cho biết như vậy."]
    assert dotted("Các đối tượng N.T.H. và L.V.Đ. bị bắt.") == [
        "Các đối tượng N.T.H. và L.V.Đ. bị bắt."
    ]
    assert dotted("Anh Nguyễn Văn H. Ông H. cho biết thêm.") == [
        "Anh Nguyễn Văn H.",
        "Ông H. cho biết thêm.",
    ]
    assert dotted("Trú tại P. Vĩnh Trại, TP. Lạng Sơn.") == ["Trú tại P. Vĩnh Trại, TP. Lạng Sơn."]


def test_splitting_loads_only_the_tokenizer_module() -> None:
    # Importing the underthesea package costs ~0.4 s of the CLI's start-up; the
    # tokenizer's own module needs only the standard library.
    code = (
        "import sys\n"
        "from tts_service.text.sentences import split_sentences\n"
        "assert [s.text for s in split_sentences('Một. Hai.')] == ['Một.', 'Hai.']\n"
        "print('underthesea' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"
