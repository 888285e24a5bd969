"""extract_html on saved portal pages, compared with the expected reading next to them.

Each ``tests/fixtures/pages/<name>.html`` has ``<name>.expected.txt``: ``title:``,
``lead:`` and ``byline:`` lines, a blank line, then the body paragraphs one per line.
A ``<name>.selector`` file, when present, holds the CSS selector the portal would send.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tts_service.errors import ExtractError, SelectorError
from tts_service.extract import Article, extract_html

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
CHROME = (
    "Skip to main content",
    "Chế độ ban đêm",
    "In trang",
    "Xuất PDF",
    "-A A +A",
    "Tin liên quan",
    "Các tin khác",
    "Bình luận",
    "Ý kiến bạn đọc",
    "Quyết tâm thực hiện",
    "Chào mừng Đại hội",
    "Trang chủ",
    "Facebook",
    "Bản quyền",
    "Tags",
    "Từ khóa",
)


def _expected(page: Path) -> Article:
    head, body = page.with_suffix(".expected.txt").read_text(encoding="utf-8").split("\n\n", 1)
    fields = dict(
        line.split(": ", 1) if ": " in line else (line[:-1], "") for line in head.splitlines()
    )
    return Article(
        title=fields["title"] or None,
        lead=fields["lead"] or None,
        paragraphs=tuple(line for line in body.splitlines() if line),
        byline=fields["byline"] or None,
    )


def _read(page: Path) -> Article:
    selector = page.with_suffix(".selector")
    return extract_html(
        page.read_text(encoding="utf-8"),
        selector=selector.read_text(encoding="utf-8").strip() if selector.exists() else None,
        url=f"https://example.gov.vn/{page.stem}",
    )


@pytest.mark.parametrize("page", sorted(PAGES.glob("*.html")), ids=lambda p: p.stem)
def test_page_reads_as_expected(page):
    got, want = _read(page), _expected(page)
    assert got.title == want.title
    assert got.lead == want.lead
    assert got.byline == want.byline
    for index, (g, w) in enumerate(zip(got.paragraphs, want.paragraphs, strict=False)):
        assert g == w, f"paragraph {index} of {page.name}"
    assert len(got.paragraphs) == len(want.paragraphs)
    for phrase in CHROME:
        assert phrase not in got.text, f"{phrase!r} read from {page.name}"


def test_text_is_title_lead_body_byline_one_per_line():
    article = Article("Tiêu đề", "Sapo.", ("Đoạn một.", "Đoạn hai."), "Vy Quản")
    assert article.text == "Tiêu đề\nSapo.\nĐoạn một.\nĐoạn hai.\nVy Quản"
    assert Article(None, None, ("Chỉ thân bài.",)).text == "Chỉ thân bài."


def test_selector_reads_exactly_that_element():
    html = (PAGES / "langson-sokhdt.html").read_text(encoding="utf-8")
    article = extract_html(html, selector="div.news-detail p")
    # Only <p> elements: the <h1> is outside the selection, the figcaption is not a <p>.
    assert article.title is None
    assert article.lead and article.lead.startswith("Ngày 09/7/2021")
    assert "Toàn cảnh hội nghị" in article.paragraphs
    assert not any("phát biểu chỉ đạo" in p for p in article.paragraphs)
    assert article.byline == "Vy Quản, Sở Kế hoạch và Đầu tư"


def test_table_rows_name_their_columns():
    article = _read(PAGES / "bo-nongnghiep-bang-so-lieu.html")
    assert (
        "Vùng: Đông Nam Bộ; Diện tích thu hoạch: 48 nghìn ha; Năng suất: 5,9 tấn/ha"
        in article.paragraphs
    )


def test_big_table_is_announced_not_read():
    rows = "".join(f"<tr><td>Xã {i}</td><td>{i * 10} hộ</td></tr>" for i in range(40))
    html = (
        "<html><body><article><h1>Danh sách hộ nghèo năm 2024</h1>"
        "<p>Ủy ban nhân dân huyện công bố danh sách hộ nghèo năm 2024 như sau.</p>"
        f"<table><tr><th>Xã</th><th>Số hộ</th></tr>{rows}</table></article></body></html>"
    )
    article = extract_html(html, selector="article")
    assert article.paragraphs[-1] == "Bảng gồm 40 dòng, 2 cột, xem chi tiết trên trang."


@pytest.mark.parametrize("selector", ["div[", "#khong-co"])
def test_bad_or_unmatched_selector(selector):
    html = (PAGES / "langson-sokhdt.html").read_text(encoding="utf-8")
    with pytest.raises(SelectorError):
        extract_html(html, selector=selector)


def test_nothing_to_read():
    with pytest.raises(ExtractError):
        extract_html("")
    with pytest.raises(ExtractError):
        extract_html("<html><body><nav>Trang chủ</nav></body></html>")


def test_parsing_neither_runs_scripts_nor_resolves_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("BÍ MẬT", encoding="utf-8")
    html = (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<html><body><article><h1>Thông báo lịch tiếp công dân</h1>"
        "<p>Chủ tịch Ủy ban nhân dân tỉnh tiếp công dân vào ngày 15 hằng tháng. &x;</p>"
        "<script>document.write('Không được đọc')</script></article></body></html>"
    )
    article = extract_html(html, selector="article")
    assert "BÍ MẬT" not in article.text and "Không được đọc" not in article.text
    assert article.title == "Thông báo lịch tiếp công dân"


def test_the_article_never_reaches_the_logs(caplog):
    # Drafts and personal data pass through here; debug logs say how much, never what.
    secret = "Bản thảo chưa công bố: hồ sơ của bà Trần Thị Mai, số định danh 001199."
    page = (
        "<html><body><nav>Trang chủ</nav><article><h1>Tin nội bộ</h1>"
        f"<p>{secret}</p><p>{secret}</p><p>{secret}</p></article></body></html>"
    )
    with caplog.at_level(logging.DEBUG):
        article = extract_html(page)
    assert "Trần Thị Mai" in article.text
    assert caplog.records, "expected the extractor's debug line"
    for fragment in ("Trần Thị Mai", "001199", "Bản thảo"):
        assert fragment not in caplog.text
