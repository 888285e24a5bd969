from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts_service.text.chunker import chunk_document, chunk_sentence
from tts_service.text.model import Document, Sentence

DATE = "ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt"


def test_short_sentence_is_one_chunk():
    assert chunk_sentence(["Xin", "chào."], 100) == ["Xin chào."]


def test_every_chunk_fits_and_no_word_is_lost():
    units = (
        "Tới dự và chỉ đạo tại Hội nghị có đồng chí Nguyễn Thu Hoài, Trưởng Ban thi đua, "
        "khen thưởng Sở Nội vụ và Lãnh đạo, chuyên viên thực hiện công tác thi đua của Cụm."
    ).split()
    chunks = chunk_sentence(units, 100)
    assert all(len(c) <= 100 for c in chunks)
    assert " ".join(chunks).split() == units
    assert len(chunks) == 2


def test_prefers_a_clause_boundary_that_is_far_enough_in():
    units = [*("a" * 9 for _ in range(7)), "bbbbbbbb,", *("c" * 9 for _ in range(5))]
    chunks = chunk_sentence(units, 100)
    assert chunks[0].endswith("bbbbbbbb,")


def test_ignores_a_clause_boundary_too_early_and_packs_words():
    units = ["Theo", "đó,", *("từ" for _ in range(40))]
    chunks = chunk_sentence(units, 100)
    assert len(chunks[0]) > 90


def test_never_cuts_inside_a_spoken_expression():
    units = ["Ngày", *("x" * 8 for _ in range(5)), DATE, "tại", "Sở", "Tài", "chính."]
    chunks = chunk_sentence(units, 100)
    assert any(DATE in c for c in chunks)


def test_cuts_an_overlong_unit_between_its_words_then_inside_a_run():
    long_expression = " ".join(["một trăm"] * 30)
    assert all(len(c) <= 100 for c in chunk_sentence([long_expression], 100))
    assert chunk_sentence(["x" * 250, "y"], 100) == ["x" * 100, "x" * 100, "x" * 50 + " y"]


def test_document_chunks_know_sentence_and_paragraph():
    doc = Document(
        (
            Sentence(0, 0, "Câu một.", 0, 8, ("Câu", "một.")),
            Sentence(1, 0, "Câu hai.", 9, 17, ("Câu", "hai.")),
            Sentence(2, 1, "Đoạn mới.", 19, 28, ("Đoạn", "mới.")),
        )
    )
    chunks = chunk_document(doc, 100)
    assert [(c.index, c.sentence, c.paragraph) for c in chunks] == [(0, 0, 0), (1, 1, 0), (2, 2, 1)]


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        chunk_sentence(["a"], 0)


words = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàáạảã,;:.", min_size=1, max_size=40)


@given(st.lists(words, min_size=1, max_size=60), st.integers(min_value=5, max_value=120))
def test_property_chunks_fit_and_keep_every_character(units, limit):
    chunks = chunk_sentence(units, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(units)
