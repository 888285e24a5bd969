"""extract_plain on the seed article and on small scraped texts."""

from __future__ import annotations

import re

import pytest

from tts_service.errors import ExtractError
from tts_service.extract import extract_plain

SEED_CHROME = (
    "Skip to main content",
    "Quyết tâm thực hiện thắng lợi",
    "Chế độ ban đêm",
    "In trang",
    "Xuất PDF",
    "Đọc nội dung",
    "-A A +A",
)
SEED_TITLE = (
    "Cụm thi đua các cơ quan tham mưu tổng hợp tổ chức Hội nghị Sơ kết công tác thi đua, "
    "khen thưởng 6 tháng đầu năm, phương hướng, nhiệm vụ 6 tháng cuối năm 2021"
)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def test_seed_chrome_is_gone(seed_text):
    text = extract_plain(seed_text).text
    for phrase in SEED_CHROME:
        assert phrase not in text, phrase


def test_seed_reads_title_body_byline_in_order(seed_text):
    article = extract_plain(seed_text)
    assert article.title == SEED_TITLE
    assert article.lead is None
    assert article.byline == "Vy Quản, Sở Kế hoạch và Đầu tư"
    assert article.text.splitlines()[0] == SEED_TITLE
    assert article.text.splitlines()[-1] == "Vy Quản, Sở Kế hoạch và Đầu tư"


def test_seed_body_sentences_all_there_in_order(seed_text):
    body = "\n".join(extract_plain(seed_text).paragraphs)
    position = 0
    for raw in seed_text.splitlines():
        line = " ".join(raw.replace("\xa0", " ").split())
        if not line.endswith("."):
            continue
        for sentence in _sentences(line):
            found = body.find(sentence, position)
            assert found >= 0, sentence
            position = found + len(sentence)


def test_seed_captions_are_one_line_each(seed_text):
    paragraphs = extract_plain(seed_text).paragraphs
    assert "Toàn cảnh hội nghị" in paragraphs
    assert (
        "Đồng chí Nguyễn Thu Hoài, Trưởng ban thi đua, khen thưởng Sở Nội vụ "
        "phát biểu chỉ đạo tại hội nghị"
    ) in paragraphs
    assert not any(p.startswith("phát biểu") for p in paragraphs)


def test_title_that_opens_like_a_slogan_is_kept():
    text = "Chào mừng Ngày Quốc khánh 2/9\nCả tỉnh treo cờ Tổ quốc từ ngày 1/9.\n"
    article = extract_plain(text)
    assert article.title == "Chào mừng Ngày Quốc khánh 2/9"
    assert article.paragraphs == ("Cả tỉnh treo cờ Tổ quốc từ ngày 1/9.",)


def test_site_name_breadcrumb_and_date_above_the_title_go():
    text = (
        "CỔNG THÔNG TIN ĐIỆN TỬ TỈNH CAO BẰNG\n"
        "Nhiệt liệt chào mừng kỷ niệm 75 năm Ngày Chủ tịch Hồ Chí Minh ra Lời kêu gọi thi đua\n"
        "Trang chủ > Tin tức > Thông báo\n"
        "Print | Share | Font size\n"
        "Thông báo tuyển dụng viên chức năm 2024\n"
        "Thứ Hai, 15/04/2024 08:30\n"
        "Sở Nội vụ thông báo tuyển dụng 45 viên chức.\n"
        "Theo Sở Nội vụ\n"
    )
    article = extract_plain(text)
    assert article.title == "Thông báo tuyển dụng viên chức năm 2024"
    assert article.paragraphs == ("Sở Nội vụ thông báo tuyển dụng 45 viên chức.",)
    assert article.byline == "Theo Sở Nội vụ"


def test_short_unindented_last_line_is_body_not_byline():
    article = extract_plain("Tin vắn\nHội nghị kết thúc lúc 17 giờ.\nToàn cảnh hội nghị\n")
    assert article.byline is None
    assert article.paragraphs[-1] == "Toàn cảnh hội nghị"


@pytest.mark.parametrize("text", ["", "   \n\n", "Skip to main content\n-A A +A\n"])
def test_nothing_to_read(text):
    with pytest.raises(ExtractError):
        extract_plain(text)
