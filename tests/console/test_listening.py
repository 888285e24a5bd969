"""Listening figures: players report to POST /v1/listens; the console shows, per article
and day, plays, the marks reached, completion, listening time and where listeners stop."""

from __future__ import annotations

import sqlite3

import httpx

from tests.console.support import KEY, OTHER, page_tree
from tests.registry.cms import AUTH, KEYS, wait_job


def _register(client, article_id="bai"):
    answer = client.put(
        f"/v1/articles/{article_id}",
        json={"text": "Câu một. Câu hai.\n\nCâu ba."},
        headers=AUTH,
    )
    assert wait_job(client, answer.json()["job"]["id"])["state"] == "done"


def _listen(client, **event) -> httpx.Response:
    return client.post("/v1/listens", json=event)


def test_reported_listening_is_counted_and_shown_per_day(site, browsers):
    client, service = site
    _register(client)
    # Three listeners: one hears it all, one stops in sentence 2 (index 1), one in sentence 1.
    script = [
        {"event": "play"},
        {"event": "25", "seconds": 2.5},
        {"event": "50", "seconds": 2.5},
        {"event": "75", "seconds": 2.5},
        {"event": "100", "seconds": 2.5},
        {"event": "play"},
        {"event": "25", "seconds": 3},
        {"event": "stop", "seconds": 1, "sentence": 1},
        {"event": "play"},
        {"event": "stop", "seconds": 1.5, "sentence": 0},
    ]
    for event in script:
        answer = _listen(client, article="bai", **event)
        assert answer.status_code == 204, answer.text
        # No cookie is set, whatever the player sends.
        assert "set-cookie" not in answer.headers
    editor = browsers()
    editor.sign_in(KEY)
    tree = page_tree(editor.get("/console/articles/bai"))
    rows = tree.xpath("//table[contains(@class,'listening')]/tbody/tr")
    assert len(rows) == 1
    cells = [c.text_content() for c in rows[0]]
    seconds = sum(e.get("seconds", 0) for e in script)
    assert cells[1:] == ["3", "2", "1", "1", "1", "33%", f"0:{round(seconds):02d}"]
    stops = tree.xpath("//ul[contains(@class,'stops')]/li")
    assert [li.text_content() for li in stops] == [
        "Câu 1: 1 người dừng",
        "Câu 2: 1 người dừng",
    ]
    # Nothing about the listener was stored: no address in any row.
    db = sqlite3.connect(service.settings.registry_file)
    try:
        stored = db.execute("SELECT * FROM listen_days").fetchall()
        stored += db.execute("SELECT * FROM listen_stops").fetchall()
    finally:
        db.close()
    assert stored and not any("127.0.0.1" in str(value) for row in stored for value in row)


def test_another_keys_figures_stay_hidden(site, browsers):
    client, _ = site
    _register(client)
    assert _listen(client, article="bai", event="play").status_code == 204
    other = browsers()
    other.sign_in(OTHER)
    assert other.get("/console/articles/bai").status_code == 404


def test_reports_about_nothing_are_refused(site):
    client, _ = site
    _register(client)
    assert _listen(client, article="khong-co", event="play").status_code == 404
    assert _listen(client, article="bai", event="pause").status_code == 422
    assert _listen(client, article="bai", event="play", seconds=-1).status_code == 422
    assert _listen(client, article="../x", event="play").status_code == 422


def test_a_beacons_text_plain_report_is_read_as_json(site):
    # A player's beacon to another origin may only be text/plain; its body is the JSON.
    client, service = site
    _register(client)
    body = '{"article": "bai", "event": "stop", "sentence": 2, "seconds": 1.5}'
    plain = {"Content-Type": "text/plain;charset=UTF-8"}
    assert client.post("/v1/listens", content=body, headers=plain).status_code == 204
    broken = client.post("/v1/listens", content="{", headers=plain)
    assert broken.status_code == 422
    assert "detail" in broken.json()
    db = sqlite3.connect(service.settings.registry_file)
    try:
        where = db.execute("SELECT article_id, sentence, stops FROM listen_stops").fetchall()
        listened = db.execute("SELECT seconds FROM listen_days").fetchall()
    finally:
        db.close()
    assert where == [("bai", 2, 1)]
    assert listened == [(1.5,)]


def test_reports_are_rate_limited_per_client(serve, make_service, engine):
    service = make_service(engine, api_keys=KEYS, listens_per_minute=1, listens_burst=2)
    client = serve(service)
    _register(client)
    answers = [_listen(client, article="bai", event="play").status_code for _ in range(3)]
    assert answers == [204, 204, 429]
    refused = _listen(client, article="bai", event="play")
    assert int(refused.headers["retry-after"]) >= 1
    assert "Quá nhiều báo cáo nghe" in refused.json()["detail"]
