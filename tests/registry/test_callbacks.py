"""The whole round trip: a CMS registers articles and hears back through its signed webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tests.helpers import live_server
from tests.registry.cms import ADMIN, ADMIN_AUTH, ARTICLE, AUTH, KEY, put, wait_job
from tests.registry.test_webhooks import SECRET, Receiver, receiver  # noqa: F401  (fixture)
from tts_service.registry.webhooks import verify


def hooked(name: str, key: str, url: str) -> dict[str, str]:
    """An API key whose callbacks go to ``url``."""
    return {"name": name, "key": key, "webhook_url": url, "webhook_secret": SECRET}


@contextmanager
def service_db(service) -> Iterator[sa.Connection]:
    """A connection of the test's own to the service's registry (SQLite or PostgreSQL)."""
    engine = sa.create_engine(service.settings.registry_database)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _service(make_service, engine, url):
    return make_service(
        engine,
        api_keys=[hooked("cms", KEY, url)],
        webhook_backoff_base_s=0.01,
        job_attempts=1,
    )


def test_ready_and_failed_articles_are_called_back_signed(serve, make_service, engine, receiver):  # noqa: F811
    client = serve(_service(make_service, engine, receiver.url))
    job = wait_job(client, put(client, "ok", text=ARTICLE, revision="v7").json()["job"]["id"])
    assert job["state"] == "done"
    (call,) = receiver.wait_for(1)
    assert verify(SECRET, call.headers["x-tts-signature"], call.body)
    assert not verify("wrong-secret", call.headers["x-tts-signature"], call.body)
    body = call.json
    assert body["event"] == "article.ready"
    article = body["article"]
    assert article["id"] == "ok" and article["revision"] == "v7"
    assert article["chunks_synthesised"] == article["chunks_total"] > 0

    engine.fail_on = "không đọc được"
    failing = put(client, "bad", text="Câu này không đọc được. Câu khác.").json()
    assert wait_job(client, failing["job"]["id"])["state"] == "failed"
    calls = receiver.wait_for(2)
    failed = calls[1].json
    assert failed["event"] == "article.failed" and failed["article"]["id"] == "bad"
    assert "từ chối" in failed["article"]["error"]
    info = client.get("/v1/articles/bad", headers=AUTH).json()
    assert info["status"] == "failed" and "từ chối" in info["error"]


def test_a_failing_receiver_is_retried(serve, make_service, engine, receiver):  # noqa: F811
    receiver.script.extend([500, 503])
    client = serve(_service(make_service, engine, receiver.url))
    put(client, "retry", text=ARTICLE)
    calls = receiver.wait_for(3)
    assert len({c.headers["x-tts-delivery"] for c in calls}) == 1
    assert all(verify(SECRET, c.headers["x-tts-signature"], c.body) for c in calls)


def test_callbacks_go_to_the_owning_key_whoever_edits_the_article(serve, make_service, engine):
    portal, desk = Receiver(), Receiver()
    with live_server(portal.app) as portal_base, live_server(desk.app) as desk_base:
        keys = [
            hooked("cms", KEY, f"{portal_base}/hook"),
            {**hooked("admin", ADMIN, f"{desk_base}/hook"), "role": "admin"},
        ]
        service = make_service(engine, api_keys=keys, webhook_backoff_base_s=0.01)
        client = serve(service)
        first = put(client, "tin", text=ARTICLE)
        assert wait_job(client, first.json()["job"]["id"])["state"] == "done"
        # The editor-in-chief fixes a sentence of the portal's article, and adds one of theirs.
        fixed = client.put(
            "/v1/articles/tin",
            json={"text": ARTICLE.replace("tiến độ", "tiến độ công việc")},
            headers=ADMIN_AUTH,
        )
        assert wait_job(client, fixed.json()["job"]["id"], ADMIN_AUTH)["state"] == "done"
        own = client.put(
            "/v1/articles/tin-bien-tap", json={"text": "Tin biên tập."}, headers=ADMIN_AUTH
        )
        assert wait_job(client, own.json()["job"]["id"], ADMIN_AUTH)["state"] == "done"

        to_portal = portal.wait_for(2)
        to_desk = desk.wait_for(1)
        assert [(c.json["event"], c.json["article"]["job"]) for c in to_portal] == [
            ("article.ready", first.json()["job"]["id"]),
            ("article.ready", fixed.json()["job"]["id"]),
        ]
        assert [c.json["article"]["id"] for c in to_desk] == ["tin-bien-tap"]
        with service_db(service) as db:
            stored = db.execute(sa.text("SELECT owner, body FROM deliveries ORDER BY id")).all()
        rows = [(owner, json.loads(body)["article"]["id"]) for owner, body in stored]
        assert rows == [("cms", "tin"), ("cms", "tin"), ("admin", "tin-bien-tap")]
