"""The whole round trip: a CMS registers articles and hears back through its signed webhook."""

from __future__ import annotations

from tests.registry.cms import ARTICLE, AUTH, KEY, put, wait_job
from tests.registry.test_webhooks import SECRET, receiver  # noqa: F401  (fixture)
from tts_service.registry.webhooks import verify


def _service(make_service, engine, url):
    return make_service(
        engine,
        api_keys=[{"name": "cms", "key": KEY, "webhook_url": url, "webhook_secret": SECRET}],
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
