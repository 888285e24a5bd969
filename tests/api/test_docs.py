"""The API docs work without internet, and every request body has a working example."""

from __future__ import annotations

import re

import pytest

from tts_service.testing import FakeEngine, fake_speech

KEY = "docs-example-key-0123456789"


@pytest.fixture
def client(serve, make_service):
    service = make_service(
        FakeEngine(fake_speech, name="espeak"),
        api_keys=[{"name": "cms", "key": KEY, "role": "admin"}],
    )
    return serve(service)


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
        ("/redoc", {"redoc.standalone.js", "favicon.png"}),
    ],
)
def test_docs_pages_load_every_asset_from_the_service(client, page, assets):
    html = client.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    # Nothing is fetched from another host (no CDN, no Google Fonts).
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html.text), html.text
    linked = set(re.findall(r"/docs-assets/([\w.-]+)", html.text))
    assert linked == assets
    for name in linked:
        asset = client.get(f"/docs-assets/{name}")
        assert asset.status_code == 200, name
        assert len(asset.content) > 1000, name
        head = client.head(f"/docs-assets/{name}")
        assert head.status_code == 200 and head.content == b""


def test_an_unknown_docs_asset_is_a_bilingual_404(client):
    answer = client.get("/docs-assets/..%2Fsettings.py")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Không tìm thấy địa chỉ này (not found)."}
    answer = client.get("/docs-assets/settings.py")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Không có tệp này (no such file)."}


def test_every_request_body_has_a_vietnamese_example_that_works(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    tried = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            examples = schemas[ref].get("examples")
            assert examples, f"{method.upper()} {path}: no example for {ref}"
            example = examples[0]
            # Vietnamese: every example carries text with Vietnamese letters.
            assert re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", str(example))
            url = path.replace("{article_id}", "bai-vi-du")
            answer = client.request(
                method.upper(), url, json=example, headers={"Authorization": f"Bearer {KEY}"}
            )
            tried.append((f"{method.upper()} {path}", answer.status_code, answer.text))
    assert sorted((op, status) for op, status, _ in tried) == [
        ("POST /v1/normalize", 200),
        ("POST /v1/read", 202),  # a new article: accepted, being read
        ("PUT /v1/articles/{article_id}", 202),  # registered, its audio queued
        ("PUT /v1/lexicon", 200),
    ], tried
