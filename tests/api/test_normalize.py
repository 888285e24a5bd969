from __future__ import annotations

from tests.helpers import text_tone
from tts_service.testing import FakeEngine


def test_preview_shows_spoken_sentences_spans_and_rules(serve, make_service):
    client = serve(make_service(FakeEngine(text_tone, name="fake")))
    source = "Văn phòng UBND tỉnh.\nNgày 09/7/2021, HĐND họp lần thứ XVI."
    answer = client.post("/v1/normalize", json={"text": source})
    assert answer.status_code == 200
    body = answer.json()
    first, second = body["sentences"]
    assert first["spoken"] == "Văn phòng Ủy ban nhân dân tỉnh."
    assert source[first["start"] : first["end"]] == first["text"]
    assert second["paragraph"] == 1
    rewrite = first["rewrites"][0]
    assert (rewrite["source"], rewrite["spoken"]) == ("UBND", "Ủy ban nhân dân")
    assert source[rewrite["start"] : rewrite["end"]] == "UBND"
    assert "lần thứ mười sáu" in second["spoken"]
    assert {r["rule"] for r in second["rewrites"]} >= {"abbreviation"}
    assert not any(ch.isdigit() for ch in body["spoken_text"])


def test_preview_refuses_empty_text(serve, make_service):
    client = serve(make_service(FakeEngine(text_tone, name="fake")))
    assert client.post("/v1/normalize", json={"text": " "}).status_code == 422
    assert client.post("/v1/normalize", json={}).status_code == 422


def test_preview_flags_tokens_only_spelled_or_left_as_written(serve, make_service):
    client = serve(make_service(FakeEngine(text_tone, name="fake")))
    source = "UBND cấp phép cho QXZ. Ứng dụng X.Ư; VTV đưa tin."
    body = client.post("/v1/normalize", json={"text": source}).json()
    flagged = [(u["token"], u["spoken"]) for u in body["unknown"]]
    # UBND is read, VTV is spelled on purpose (data/spelled.tsv): neither is flagged
    assert flagged == [("QXZ", "quy ích dét"), ("X.Ư", None)]
    first = body["unknown"][0]
    assert source[first["start"] : first["end"]] == "QXZ"
