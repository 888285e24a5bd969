"""The player's files and the /demo page over HTTP (no browser needed)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.helpers import live_server
from tts_service.api.routes import player


@pytest.fixture(scope="module")
def client():
    app = FastAPI()
    app.include_router(player.router)
    with live_server(app) as base, httpx.Client(base_url=base) as http:
        yield http


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("player.js", "text/javascript"),
        ("player.css", "text/css"),
        ("player-ui.css", "text/css"),
        ("demo.css", "text/css"),
    ],
)
def test_assets_have_types_etags_and_security_headers(client, name, media_type):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "max-age" in response.headers["cache-control"]
    etag = response.headers["etag"]
    again = client.get(f"/static/{name}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert not again.content
    assert client.head(f"/static/{name}").status_code == 200


@pytest.mark.parametrize("name", ["seed-article.txt", "demo.html", "../player.py", "x.js"])
def test_only_the_player_files_are_served(client, name):
    assert client.get(f"/static/{name}").status_code == 404


def test_demo_page_is_self_only_and_shows_the_clean_article(client):
    response = client.get("/demo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert '<script src="/static/player.js" defer></script>' in page
    assert 'data-tts-read data-tts-target="#noi-dung">Đọc nội dung</button>' in page
    assert '<h1 class="article-title">Cụm thi đua các cơ quan tham mưu tổng hợp' in page
    assert "<figcaption>Toàn cảnh hội nghị</figcaption>" in page
    assert "Sở Nội vụ phát biểu chỉ đạo tại hội nghị</figcaption>" in page
    assert '<p class="article-byline">Vy Quản – Sở Kế hoạch và Đầu tư</p>' in page
    article = page[page.index('<article id="noi-dung"') : page.index("</article>")]
    body = article[article.index('<div class="article-body">') :]
    assert "Skip to main content" not in page
    assert '<a class="skip-link" href="#main">Chuyển đến nội dung chính</a>' in page
    assert "Quyết tâm thực hiện thắng lợi" not in article
    assert "Chế độ ban đêm" not in body
    assert "<script" not in article


def test_seed_parsing():
    text = player.resources.files("tts_service").joinpath("static", "seed-article.txt")
    article = player.parse_seed_article(text.read_text(encoding="utf-8"))
    assert article.title.startswith("Cụm thi đua các cơ quan tham mưu tổng hợp")
    assert article.title.endswith("6 tháng cuối năm 2021")
    assert article.tools == ("Chế độ ban đêm", "In trang", "Xuất PDF")
    assert article.font_controls
    kinds = [kind for kind, _ in article.blocks]
    assert kinds == ["p", "p", "caption", "p", "caption", "p"]
    assert article.byline == "Vy Quản – Sở Kế hoạch và Đầu tư"


def test_article_text_is_escaped():
    article = player.DemoArticle(
        slogan="<b>slogan</b>",
        tools=(),
        font_controls=False,
        title='Tiêu đề <script>alert("x")</script>',
        blocks=(("p", "A & B <img src=x onerror=alert(1)>"), ("caption", '"quoted" <i>')),
        byline="<a href=javascript:alert(1)>x</a>",
    )
    page = player.render_demo(article)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "A &amp; B &lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;a href=javascript:alert(1)&gt;" in page
    assert "<b>slogan" not in page
