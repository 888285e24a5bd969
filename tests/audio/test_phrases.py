from __future__ import annotations

from tts_service.audio.phrases import phrase_starts, split_phrases
from tts_service.text.chunker import chunk_document
from tts_service.text.model import Sentence
from tts_service.text.pipeline import normalize


def _chunks(text: str, limit: int) -> tuple[Sentence, list[str]]:
    document = normalize(text)
    (sentence,) = document.sentences
    return sentence, [c.text for c in chunk_document(document, limit)]


def test_each_chunk_gets_its_written_text_with_rewrites_kept_as_written():
    sentence, chunks = _chunks(
        "Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, Cụm thi đua các cơ quan "
        "tham mưu tổng hợp (gồm Văn phòng UBND tỉnh) tổ chức hội nghị.",
        60,
    )
    assert chunks == [
        "ngày chín tháng bảy năm hai nghìn không trăm hai mươi mốt,",
        "tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn,",
        "Cụm thi đua các cơ quan tham mưu tổng hợp (gồm Văn phòng",
        "Ủy ban nhân dân tỉnh) tổ chức hội nghị.",
    ]
    assert split_phrases(sentence, chunks) == [
        "Ngày 09/7/2021, ",
        "tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, ",
        "Cụm thi đua các cơ quan tham mưu tổng hợp (gồm Văn phòng ",
        "UBND tỉnh) tổ chức hội nghị.",
    ]


def test_a_chunk_opening_with_a_bracket_starts_at_the_bracket():
    sentence, chunks = _chunks("Đồng chí Nguyễn Văn Lực (Cụm trưởng) chủ trì.", 25)
    assert chunks == ["Đồng chí Nguyễn Văn Lực", "(Cụm trưởng) chủ trì."]
    assert split_phrases(sentence, chunks) == ["Đồng chí Nguyễn Văn Lực ", "(Cụm trưởng) chủ trì."]


def test_pieces_cover_the_sentence_exactly():
    sentence, chunks = _chunks(
        "Phát biểu tại Hội nghị, đồng chí Nguyễn Thu Hoài, Trưởng ban thi đua, khen thưởng "
        "Sở Nội vụ đã biểu dương những kết quả, thành tích của Cụm thi đua đạt được trong "
        "6 tháng đầu năm 2021.",
        40,
    )
    pieces = split_phrases(sentence, chunks)
    assert pieces is not None and len(pieces) == len(chunks) == 6
    assert "".join(pieces) == sentence.text


def test_one_chunk_is_the_whole_sentence():
    sentence, chunks = _chunks("UBND tỉnh họp lúc 10:30.", 100)
    assert phrase_starts(sentence, chunks) == [0]
    assert split_phrases(sentence, chunks) == ["UBND tỉnh họp lúc 10:30."]


def test_chunks_that_do_not_line_up_give_no_phrases():
    sentence, chunks = _chunks("Sở Nội vụ tổ chức tập huấn.", 10)
    assert split_phrases(sentence, [*chunks, "thêm"]) is None
    assert split_phrases(sentence, chunks[1:]) is None
