from __future__ import annotations

from tts_service.text.html import html_to_text


def test_blocks_become_lines_and_code_and_controls_are_dropped():
    html = (
        "<html><head><title>Trang</title><style>p{}</style></head><body>"
        "<h1>Hội nghị sơ kết</h1><script>alert('x')</script>"
        "<p>Đoạn <b>một</b> &amp; hai.</p><ul><li>Mục A</li><li>Mục B</li></ul>"
        "<button>-A</button><button>+A</button><p>Cuối&nbsp;bài.</p></body></html>"
    )
    assert html_to_text(html).splitlines() == [
        "Hội nghị sơ kết",
        "Đoạn một & hai.",
        "Mục A",
        "Mục B",
        "Cuối bài.",
    ]


def test_unclosed_and_nested_skips_do_not_swallow_the_rest():
    assert html_to_text("<p>a</p></script><p>b<br>c</p>") == "a\nb\nc"
