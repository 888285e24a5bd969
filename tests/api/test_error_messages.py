"""Every error a person can see is JSON, in Vietnamese and English, and names the field."""

from __future__ import annotations

import pytest

from tts_service.testing import FakeEngine, fake_speech


@pytest.fixture
def client(serve, make_service):
    return serve(make_service(FakeEngine(fake_speech, name="espeak")))


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'{"text": "abc",',
            "Nội dung không phải JSON hợp lệ ở ký tự thứ 16 (at character 16) "
            "(malformed JSON: Expecting property name enclosed in double quotes)",
        ),
        (
            '["UBND tỉnh"]'.encode(),
            'Nội dung phải là một đối tượng JSON, ví dụ {"text": "…"} '
            "(the body must be a JSON object)",
        ),
        (
            b'{"text": 12}',
            "text: phải là một chuỗi văn bản (must be a string)",
        ),
        (
            b'{"text": "Xin chao", "giong": "nam"}',
            "giong: trường này không được nhận (unknown field)",
        ),
        (
            b'{"text": "Xin chao", "title": "' + b"a" * 501 + b'"}',
            "title: dài quá 500 ký tự (longer than 500 characters)",
        ),
        (
            b"{}",
            "Gửi đúng một trong các trường 'text', 'html' hoặc 'url' "
            "(send exactly one of 'text', 'html' or 'url').",
        ),
    ],
)
def test_validation_errors_are_bilingual(client, body, detail):
    answer = client.post("/v1/read", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": detail}


def test_unknown_paths_and_methods_are_bilingual_json(client):
    missing = client.get("/v1/khong-co")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Không tìm thấy địa chỉ này (not found)."}
    wrong = client.delete("/v1/read")
    assert wrong.status_code == 405
    assert wrong.json() == {
        "detail": "Địa chỉ này không nhận phương thức này (method not allowed)."
    }
    assert wrong.headers["allow"] == "GET, POST"


def test_a_405_lists_head_where_it_is_served(client):
    answer = client.post("/v1/audio/" + "a" * 40 + ".mp3")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"
