"""The editors' API over real HTTP: register, wait, read back, edit, list, delete."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import assert_whole_audio, text_tone
from tests.registry.cms import ADMIN, ADMIN_AUTH, ARTICLE, AUTH, KEY, put, wait_job
from tts_service.registry.store import ArticleStore
from tts_service.testing import FakeEngine


def test_register_then_play_the_pregenerated_audio(cms):
    client, _ = cms
    answer = put(client, "tin-1", title="Họp thường kỳ", text=ARTICLE, revision="r1")
    assert answer.status_code == 202, answer.text
    info = answer.json()
    assert info["status"] == "queued" and info["job"]["state"] in ("queued", "running")
    job = wait_job(client, info["job"]["id"])
    assert job["state"] == "done"
    assert job["chunks"]["synthesised"] == job["chunks"]["total"] > 0

    article = client.get("/v1/articles/tin-1", headers=AUTH).json()
    assert article["status"] == "ready" and not article["stale"]
    assert article["revision"] == "r1" and article["engine"] == "fake"

    # The button needs no key.
    audio = client.get(article["audio_url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert_whole_audio(audio.content, article["duration_s"])
    again = client.get(article["audio_url"], headers={"If-None-Match": audio.headers["etag"]})
    assert again.status_code == 304
    ranged = client.get(article["audio_url"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
    vtt = client.get(article["vtt_url"])
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    assert "UBND tỉnh Lạng Sơn" in vtt.text  # cues carry the text as written

    transcript = client.get(article["transcript_url"]).json()
    sentences = transcript["sentences"]
    assert sentences[0]["spoken"].startswith("Ủy ban nhân dân tỉnh Lạng Sơn")
    assert all(s["start"] is not None and s["end"] > s["start"] for s in sentences)
    assert [s["paragraph"] for s in sentences] == sorted(s["paragraph"] for s in sentences)
    text = client.get(article["transcript_url"], params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert "quý ba năm hai nghìn không trăm hai mươi tư" in text.text


def test_unchanged_content_is_a_no_op(cms, engine):
    client, _ = cms
    wait_job(client, put(client, "tin-2", title="T", text=ARTICLE).json()["job"]["id"])
    calls = len(engine.calls)
    answer = put(client, "tin-2", title="T", text=ARTICLE, revision="r2")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready" and answer.json()["revision"] == "r2"
    assert len(engine.calls) == calls


def test_an_edit_synthesises_only_the_changed_sentences(cms, engine):
    client, _ = cms
    wait_job(client, put(client, "tin-3", text=ARTICLE).json()["job"]["id"])
    before = list(engine.calls)
    edited = ARTICLE.replace("Các sở báo cáo tiến độ.", "Các sở, ngành báo cáo tiến độ.")
    info = put(client, "tin-3", text=edited).json()
    job = wait_job(client, info["job"]["id"])
    new_calls = engine.calls[len(before) :]
    assert new_calls == ["Các sở, ngành báo cáo tiến độ."]
    assert job["chunks"] == {
        "total": job["chunks"]["total"],
        "reused": job["chunks"]["total"] - 1,
        "synthesised": 1,
    }
    transcript = client.get("/v1/articles/tin-3/transcript").json()
    assert any(s["spoken"] == "Các sở, ngành báo cáo tiến độ." for s in transcript["sentences"])


def test_listing_filters_by_status_and_pages(cms):
    client, _ = cms
    for n in range(3):
        wait_job(
            client, put(client, f"a{n}", text=f"Bài số {n}. Nội dung bài {n}.").json()["job"]["id"]
        )
    first = client.get("/v1/articles", params={"status": "ready"}, headers=AUTH).json()
    assert first["total"] == 3 and first["pages"] == 2 and len(first["items"]) == 2
    second = client.get("/v1/articles", params={"status": "ready", "page": 2}, headers=AUTH).json()
    assert [a["id"] for a in first["items"] + second["items"]] == ["a0", "a1", "a2"]
    failed = client.get("/v1/articles", params={"status": "failed"}, headers=AUTH).json()
    assert failed["total"] == 0 and failed["items"] == []
    bad = client.get("/v1/articles", params={"status": "nonsense"}, headers=AUTH)
    assert bad.status_code == 422


def test_delete_removes_the_audio_no_other_article_shares(cms):
    client, service = cms
    shared = "Câu chung của hai bài."
    wait_job(client, put(client, "x", text=f"Bài X riêng. {shared}").json()["job"]["id"])
    wait_job(client, put(client, "y", text=f"Bài Y riêng. {shared}").json()["job"]["id"])
    x = service.cache  # the same cache the app uses
    record = client.get("/v1/articles/x", headers=AUTH).json()
    assert client.get(record["audio_url"]).status_code == 200
    from tts_service.registry.store import ArticleStore

    store = ArticleStore.open(service.settings.registry_database)
    x_record = store.get("x")
    y_record = store.get("y")
    store.close()
    assert x_record is not None and y_record is not None
    only_x = set(x_record.chunk_keys) - set(y_record.chunk_keys)
    both = set(x_record.chunk_keys) & set(y_record.chunk_keys)
    assert only_x and both

    assert client.delete("/v1/articles/x", headers=AUTH).status_code == 204
    assert client.get("/v1/articles/x", headers=AUTH).status_code == 404
    assert client.get("/v1/articles/x/audio").status_code == 404
    assert x.get_article(x_record.audio_key) is None
    assert not any(x.has_chunk(k) for k in only_x)
    assert all(x.has_chunk(k) for k in both)
    assert client.get("/v1/articles/y/audio").status_code == 200
    assert client.delete("/v1/articles/x", headers=AUTH).status_code == 404


def test_regenerate_queues_a_job(cms):
    client, _ = cms
    wait_job(client, put(client, "r", text=ARTICLE).json()["job"]["id"])
    answer = client.post("/v1/articles/r/regenerate", headers=AUTH)
    assert answer.status_code == 202
    job = wait_job(client, answer.json()["job"]["id"])
    assert job["state"] == "done" and job["reason"] == "regenerate"
    assert job["chunks"]["reused"] == job["chunks"]["total"]
    assert client.post("/v1/articles/nope/regenerate", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "   "}, 422),
        ({"text": "x" * 200_001}, 413),
        ({"text": "a", "html": "<p>b</p>"}, 422),
        ({"url": "https://example.org/a"}, 403),
        ({}, 422),
    ],
)
def test_bad_articles_are_refused_and_not_stored(cms, body, status):
    client, _ = cms
    answer = put(client, "bad", **body)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]
    assert client.get("/v1/articles/bad", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("article_id", "status"),
    [
        ("../etc", 404),  # the client resolves the dots: /v1/etc, no such route
        ("a b", 422),
        ("-x", 422),
        ("x" * 129, 422),
    ],
)
def test_article_ids_are_validated(cms, article_id, status):
    client, _ = cms
    answer = client.put(f"/v1/articles/{article_id}", json={"text": "Xin chào."}, headers=AUTH)
    assert answer.status_code == status, answer.text
    listed = client.get("/v1/articles", headers=ADMIN_AUTH).json()
    assert (listed["total"], listed["items"]) == (0, [])


# Every keyed route, and what a valid admin key gets from it on an empty registry.
KEYED = [
    ("PUT", "/v1/articles/a", {"text": "Xin chào."}, 202),
    ("POST", "/v1/articles/a/regenerate", None, 404),
    ("DELETE", "/v1/articles/a", None, 404),
    ("PUT", "/v1/lexicon", {"entries": {"ABC": "a bê xê"}}, 200),
    ("GET", "/v1/articles/a", None, 404),
    ("GET", "/v1/articles", None, 200),
    ("GET", "/v1/jobs/1", None, 404),
    ("GET", "/v1/lexicon", None, 200),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), KEYED)
def test_the_editors_api_needs_a_valid_key(cms, method, path, body, status):
    client, _ = cms
    missing = client.request(method, path, json=body)
    assert missing.status_code == 401, missing.text
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for headers, refused in (
        ({"Authorization": "Bearer wrong-key-0123456789abcdef"}, 403),
        ({"Authorization": f"Bearer {KEY}x"}, 403),
        ({"X-API-Key": KEY[:-1]}, 403),
        ({"Authorization": f"Basic {KEY}"}, 401),
    ):
        wrong = client.request(method, path, json=body, headers=headers)
        assert wrong.status_code == refused, (headers, wrong.text)
    ok = client.request(method, path, json=body, headers={"X-API-Key": ADMIN})
    assert ok.status_code == status, ok.text


def test_the_buttons_reads_need_no_key(cms):
    client, _ = cms
    wait_job(client, put(client, "pub", text=ARTICLE).json()["job"]["id"])
    for suffix in ("audio", "vtt", "transcript"):
        assert client.get(f"/v1/articles/pub/{suffix}").status_code == 200
    assert client.get("/v1/articles/missing/audio").status_code == 404


def test_without_keys_configured_every_write_is_refused(serve, make_service, engine):
    client = serve(make_service(engine))
    answer = client.put("/v1/articles/a", json={"text": "Xin chào."}, headers=AUTH)
    assert answer.status_code == 403


def test_registered_only_serves_made_audio_and_starts_nothing_new(serve, make_service, engine):
    service = make_service(
        engine, api_keys=[{"name": "cms", "key": KEY}], read_registered_only=True
    )
    client = serve(service)
    wait_job(client, put(client, "reg", text=ARTICLE).json()["job"]["id"])
    assert client.get("/v1/articles/reg/audio").status_code == 200
    calls = len(engine.calls)
    refused = client.post("/v1/read", json={"text": "Một bài chưa đăng ký. Không được đọc."})
    assert refused.status_code == 403 and "đăng ký" in refused.json()["detail"]
    assert len(engine.calls) == calls
    # The same text as the registered article is already made: it is served.
    same = client.post("/v1/read", json={"text": ARTICLE})
    assert same.status_code == 200, same.text
    assert client.get(same.json()["audio_url"]).status_code == 200


def test_metrics_show_the_registry(cms):
    client, _ = cms
    wait_job(client, put(client, "m1", text=ARTICLE).json()["job"]["id"])
    text = client.get("/metrics").text
    assert 'tts_registry_articles{status="ready"} 1.0' in text
    assert 'tts_registry_jobs{state="queued"} 0.0' in text


def test_a_failed_attempt_is_really_retried(serve, make_service, engine):
    service = make_service(
        engine, api_keys=[{"name": "cms", "key": KEY}], job_attempts=3, job_backoff_base_s=0.01
    )
    client = serve(service)
    engine.fail_on, engine.failures_left = "Xin chào", 1  # Google fails once, then recovers
    job = wait_job(client, put(client, "flaky", text="Xin chào bạn đọc.").json()["job"]["id"])
    # Two tries: the failed one and the one that succeeded.
    assert job["state"] == "done" and job["attempts"] == 2, job
    assert engine.calls == ["Xin chào bạn đọc.", "Xin chào bạn đọc."]


def test_editing_one_paragraph_of_the_seed_sends_only_its_sentences(cms, engine, seed_text):
    client, _ = cms
    wait_job(client, put(client, "seed", text=seed_text).json()["job"]["id"])
    first = list(engine.calls)
    # The longest paragraph of the article's body gets one word changed.
    paragraph = max(seed_text.split("\n"), key=len)
    edited_paragraph = paragraph.replace(" và ", " cùng ", 1)
    assert edited_paragraph != paragraph
    job = wait_job(
        client,
        put(client, "seed", text=seed_text.replace(paragraph, edited_paragraph)).json()["job"][
            "id"
        ],
    )
    sent = engine.calls[len(first) :]
    assert sent, "the edit was not read"
    # Only the edited sentence's chunks: new texts, and the changed word among them.
    assert all(text not in first for text in sent)
    assert "cùng" in " ".join(sent)
    assert job["chunks"]["synthesised"] == len(sent)
    assert job["chunks"]["reused"] == job["chunks"]["total"] - len(sent)
    assert len(sent) < job["chunks"]["total"] / 5


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/tin-tuc/1",  # a host not on the list
        "https://langson.gov.vn.evil.example/1",  # the allowed name inside another domain
        "ftp://langson.gov.vn/1",
        "https://admin:pw@langson.gov.vn/1",
        "http://10.0.0.7/1",
    ],
)
def test_a_url_this_service_may_not_fetch_is_refused_before_anything_is_stored(
    serve, make_service, engine, url
):
    service = make_service(
        engine, api_keys=[{"name": "cms", "key": KEY}], fetch_allowed_hosts=["langson.gov.vn"]
    )
    client = serve(service)
    answer = put(client, "trang", url=url)
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"]
    assert client.get("/v1/articles/trang", headers=AUTH).status_code == 404
    assert engine.calls == []


def test_an_archive_imported_as_batch_waits_behind_todays_articles(serve, make_service):
    held = threading.Event()
    order: list[str] = []

    def read(text: str) -> bytes:
        order.append(text)
        if "đang đọc" in text:
            assert held.wait(30), "the test never let the first article go"
        return text_tone(text)

    engine = FakeEngine(read, name="fake")
    service = make_service(engine, api_keys=[{"name": "cms", "key": KEY}], workers=1)
    client = serve(service)
    # The one worker is busy with an article; then an archive and today's article arrive.
    busy = put(client, "dang-doc", text="Bài đang đọc.", priority="batch")
    assert busy.status_code == 202 and busy.json()["job"]["reason"] == "batch"
    archive = [
        put(client, f"luu-tru-{n}", text=f"Bài lưu trữ số {n}.", priority="batch")
        for n in range(1, 4)
    ]
    today = put(client, "hom-nay", text="Tin hôm nay.")
    assert today.json()["job"]["reason"] == "put"
    held.set()
    for answer in [busy, *archive, today]:
        assert wait_job(client, answer.json()["job"]["id"])["state"] == "done"
    read_after = [text for text in order if "đang đọc" not in text]
    assert read_after[0].startswith("Tin hôm nay")
    assert put(client, "x", text="Xin chào.", priority="urgent").status_code == 422


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        (["langson.gov.vn"], "https://example.org/tin-tuc/1"),
        (["langson.gov.vn"], "https://evil-langson.gov.vn/tin-tuc/1"),
        ([], "https://langson.gov.vn/tin-tuc/1"),  # reading by URL is not enabled at all
    ],
)
def test_a_refused_url_gets_the_answer_reading_it_would_get(
    serve, make_service, engine, allowed, url
):
    service = make_service(
        engine, api_keys=[{"name": "cms", "key": KEY}], fetch_allowed_hosts=allowed, workers=0
    )
    client = serve(service)
    registered = put(client, "trang", url=url)
    read = client.post("/v1/read", json={"url": url})
    assert read.status_code == 403, read.text
    assert (registered.status_code, registered.json()) == (403, read.json())
    # Vietnamese first, the English gloss in brackets.
    vietnamese = registered.json()["detail"].split("(")[0]
    assert any(ord(c) > 127 for c in vietnamese), registered.json()
    assert client.get("/v1/articles/trang", headers=AUTH).status_code == 404
    assert 'tts_registry_jobs{state="queued"} 0.0' in client.get("/metrics").text


def test_a_url_on_an_allowed_host_or_its_subdomain_is_registered(serve, make_service, engine):
    # No workers: nothing is fetched, the test stays offline.
    service = make_service(
        engine,
        api_keys=[{"name": "cms", "key": KEY}],
        fetch_allowed_hosts=["langson.gov.vn"],
        workers=0,
    )
    client = serve(service)
    for n, url in enumerate(["https://langson.gov.vn/tin/1", "https://sokhdt.LangSon.gov.vn./2"]):
        answer = put(client, f"trang-{n}", url=url)
        assert answer.status_code == 202, answer.text
        assert answer.json()["source_kind"] == "url"


def test_an_edit_to_a_refused_url_leaves_the_article_as_it_was(serve, make_service, engine):
    service = make_service(
        engine, api_keys=[{"name": "cms", "key": KEY}], fetch_allowed_hosts=["langson.gov.vn"]
    )
    client = serve(service)
    first = put(client, "tin", title="Họp", text=ARTICLE)
    wait_job(client, first.json()["job"]["id"])
    before = client.get("/v1/articles/tin", headers=AUTH).json()
    calls = len(engine.calls)

    refused = put(client, "tin", title="Họp", url="https://example.org/tin")
    assert refused.status_code == 403, refused.text
    after = client.get("/v1/articles/tin", headers=AUTH).json()
    assert after == before
    assert after["source_kind"] == "text" and after["status"] == "ready"
    assert len(engine.calls) == calls


def _claim_order(service) -> list[str]:
    """Claim every queued job straight from the store, as a worker would: the article ids."""
    store = ArticleStore.open(service.settings.registry_database)
    try:
        order = []
        while (job := store.claim("test-claimer", lease_s=600)) is not None:
            order.append(job.article_id)
        return order
    finally:
        store.close()


def test_a_publish_queued_after_a_long_batch_import_is_claimed_first(serve, make_service, engine):
    # No workers run: the claim order is read from the store, deterministically.
    service = make_service(engine, api_keys=[{"name": "cms", "key": KEY}], workers=0)
    client = serve(service)
    archive = [f"luu-tru-{n:02d}" for n in range(25)]
    for article_id in archive:
        answer = put(client, article_id, text=f"Bài lưu trữ số {article_id}.", priority="batch")
        assert answer.status_code == 202, answer.text
        assert answer.json()["job"]["priority"] == "batch"
        assert answer.json()["job"]["reason"] == "batch"
    today = put(client, "hom-nay", text="Tin hôm nay.")
    assert today.json()["job"]["priority"] == "publish"
    assert today.json()["job"]["reason"] == "put"
    explicit = put(client, "hom-nay-2", text="Tin thứ hai hôm nay.", priority="publish")
    assert explicit.json()["job"]["priority"] == "publish"

    assert _claim_order(service) == ["hom-nay", "hom-nay-2", *archive]
    assert engine.calls == []


def test_an_archive_article_edited_before_it_was_read_is_published_first(
    serve, make_service, engine
):
    service = make_service(engine, api_keys=[{"name": "cms", "key": KEY}], workers=0)
    client = serve(service)
    older = put(client, "luu-tru-1", text="Bài lưu trữ một.", priority="batch").json()["job"]
    queued = put(client, "luu-tru-2", text="Bài lưu trữ hai.", priority="batch").json()["job"]
    # The CMS re-saves luu-tru-2 as published today: its queued job is reused and hurried.
    edited = put(client, "luu-tru-2", text="Bài lưu trữ hai, đã sửa.")
    assert edited.status_code == 202, edited.text
    job = edited.json()["job"]
    assert job["id"] == queued["id"] != older["id"]
    assert (job["reason"], job["priority"]) == ("batch", "publish")
    assert client.get(f"/v1/jobs/{job['id']}", headers=AUTH).json()["priority"] == "publish"
    # Re-saving as batch never slows down a job already queued as publish.
    assert put(client, "luu-tru-2", text="Lần sửa ba.", priority="batch").json()["job"] == job

    assert _claim_order(service) == ["luu-tru-2", "luu-tru-1"]


@pytest.mark.parametrize("priority", ["urgent", "", "PUBLISH", "lexicon", 0, 10, None])
def test_priority_is_publish_or_batch(cms, priority):
    client, _ = cms
    answer = put(client, "uu-tien", text="Xin chào.", priority=priority)
    assert answer.status_code == 422, answer.text
    assert "priority" in answer.json()["detail"]
    assert client.get("/v1/articles/uu-tien", headers=AUTH).status_code == 404


def test_the_openapi_schema_states_the_priorities(cms):
    client, _ = cms
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    priority = schemas["ArticlePut"]["properties"]["priority"]
    assert priority["enum"] == ["publish", "batch"] and priority["default"] == "publish"
    assert "priority" in schemas["JobOut"]["required"]
