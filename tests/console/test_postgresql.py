"""The console on PostgreSQL (``TTS_DATABASE_URL``): its own tables migrate beside the
registry's, and sessions, sign-in limits, listening figures, the list, the dashboard and
the lexicon's dry run run the same SQL as on SQLite."""

from __future__ import annotations

import sqlalchemy as sa

from tests.console.support import ADMIN, KEY, Editor, page_tree
from tests.registry.cms import AUTH, KEYS, CountingEngine, wait_job


def test_the_console_runs_on_postgresql(postgres_url, serve, make_service):
    # postgres_url first: its database outlives the service serving from it.
    service = make_service(CountingEngine(), api_keys=KEYS, database_url=postgres_url)
    client = serve(service)
    answer = client.put("/v1/articles/bai", json={"text": "QWZX họp sáng nay."}, headers=AUTH)
    assert wait_job(client, answer.json()["job"]["id"])["state"] == "done"
    for event in ({"event": "play"}, {"event": "100", "seconds": 3}):
        assert client.post("/v1/listens", json={"article": "bai", **event}).status_code == 204
    editor = Editor(str(client.base_url))
    try:
        assert editor.sign_in("wrong-key-0123456789abcdef").status_code == 403
        assert editor.sign_in(KEY).status_code == 303
        listed = page_tree(editor.get("/console/articles", params={"q": "BAI"}))
        assert listed.xpath("//tr/@data-article") == ["bai"]
        article = page_tree(editor.get("/console/articles/bai"))
        cells = article.xpath("//table[contains(@class,'listening')]/tbody/tr/td/text()")
        assert cells[:1] == ["1"] and "100%" in cells
        assert editor.get("/console/dashboard").status_code == 200
        editor.post("/console/sign-out", {})
        assert editor.sign_in(ADMIN).status_code == 303
        fields = {
            "etag": client.get("/v1/lexicon", headers=AUTH).json()["etag"],
            "action": "add",
            "old": "",
            "written": "QWZX",
            "reading": "Quỹ Xanh",
        }
        preview = editor.post("/console/lexicon/preview", fields)
        assert page_tree(preview).xpath("//ul[contains(@class,'affected')]/li/a/text()") == ["bai"]
    finally:
        editor.close()
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT component, version FROM schema_version")).all()
            versions = {str(name): int(number) for name, number in rows}
            failures = conn.execute(sa.text("SELECT COUNT(*) FROM console_signin_failures"))
            assert failures.scalar_one() == 1
            assert conn.execute(sa.text("SELECT key_name FROM console_sessions")).all() == [
                ("admin",)
            ]
    finally:
        engine.dispose()
    assert versions["console"] == 1
