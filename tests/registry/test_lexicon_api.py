"""Editing the site lexicon re-queues exactly the articles it makes read differently."""

from __future__ import annotations

from tests.registry.cms import ADMIN, ADMIN_AUTH, AUTH, put, wait_job

ARTICLES = {
    # Contains the new abbreviation: its spoken text changes.
    "vnpt": "VNPT Lạng Sơn khai trương trạm mới. Trạm phục vụ ba xã.",
    # Contains the letters only inside a longer word: reads the same.
    "inside": "Công ty VNPTX không liên quan. Đây là một tên riêng.",
    # Nothing to do with it.
    "plain": "Hội nghị tổng kết năm. Các đại biểu phát biểu.",
    # Uses a built-in abbreviation the site entry overrides.
    "hdnd": "HĐND tỉnh họp kỳ thứ 7. Đại biểu chất vấn.",
}


def _register_all(client):
    for article_id, text in ARTICLES.items():
        wait_job(client, put(client, article_id, text=text).json()["job"]["id"])


def test_a_lexicon_change_requeues_exactly_the_affected_articles(cms):
    client, _ = cms
    _register_all(client)
    current = client.get("/v1/lexicon", headers=AUTH)
    assert current.status_code == 200 and current.json()["entries"] == {}
    etag = current.headers["etag"]

    changed = client.put(
        "/v1/lexicon",
        json={"entries": {"VNPT": "vê en pê tê", "HĐND": "Hội đồng nhân dân"}},
        headers={**ADMIN_AUTH, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    # "HĐND" already read "Hội đồng nhân dân": the entry changes nothing that is said.
    assert changed.json()["requeued"] == ["vnpt"]

    article = client.get("/v1/articles/vnpt", headers=AUTH).json()
    job = wait_job(client, article["job"]["id"])
    assert job["reason"] == "lexicon" and job["state"] == "done"
    assert job["chunks"]["synthesised"] == 1  # only the sentence with VNPT
    transcript = client.get("/v1/articles/vnpt/transcript").json()
    assert transcript["sentences"][0]["spoken"].startswith("vê en pê tê Lạng Sơn")
    for other in ("inside", "plain", "hdnd"):
        info = client.get(f"/v1/articles/{other}", headers=AUTH).json()
        assert info["status"] == "ready" and info["job"]["reason"] == "put", other

    # The public read path reads with the new lexicon too.
    preview = client.post("/v1/normalize", json={"text": "VNPT khai trương."}).json()
    assert preview["spoken_text"].startswith("vê en pê tê")


def test_a_stale_if_match_is_refused_and_changes_nothing(cms):
    client, _ = cms
    etag = client.get("/v1/lexicon", headers=AUTH).headers["etag"]
    first = client.put(
        "/v1/lexicon",
        json={"entries": {"ABC": "a bê xê"}},
        headers={**ADMIN_AUTH, "If-Match": etag},
    )
    assert first.status_code == 200
    second = client.put(
        "/v1/lexicon",
        json={"entries": {"XYZ": "ích i dét"}},
        headers={**ADMIN_AUTH, "If-Match": etag},
    )
    assert second.status_code == 412 and "tải lại" in second.json()["detail"]
    assert client.get("/v1/lexicon", headers=AUTH).json()["entries"] == {"ABC": "a bê xê"}


def test_invalid_entries_are_refused(cms):
    client, _ = cms
    for entries in ({"": "x"}, {"A": " "}, {"A\tB": "x"}, {"A": "dòng\nhai"}):
        answer = client.put("/v1/lexicon", json={"entries": entries}, headers=ADMIN_AUTH)
        assert answer.status_code == 422, entries
    assert client.get("/v1/lexicon", headers=AUTH).json()["entries"] == {}


def test_the_lexicon_survives_a_restart(serve, make_service, engine):
    keys = [{"name": "admin", "key": ADMIN, "role": "admin"}]
    first = serve(make_service(engine, api_keys=keys))
    answer = first.put("/v1/lexicon", json={"entries": {"ABC": "a bê xê"}}, headers=ADMIN_AUTH)
    assert answer.status_code == 200, answer.text
    second_service = make_service(engine, api_keys=keys)
    second = serve(second_service)
    assert second.get("/v1/lexicon", headers=ADMIN_AUTH).json()["entries"] == {"ABC": "a bê xê"}
    assert second_service.lexicon.read("ABC") == "a bê xê"
