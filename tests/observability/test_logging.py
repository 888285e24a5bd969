"""Request ids and JSON logs, against a real app on loopback."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest

from tests.helpers import text_tone
from tests.registry.cms import KEY, CountingEngine, put, wait_job
from tts_service.errors import SynthesisUnavailable
from tts_service.observability.logging import (
    HANDLER_NAME,
    JsonFormatter,
    accept_request_id,
    configure_logging,
)
from tts_service.testing import FakeEngine

SECRET_TEXT = "Thư mật số 4711: ông Trần Văn Bí đề nghị giữ kín nội dung cuộc họp."
GENERATED = re.compile(r"[0-9a-f]{32}")


def access_lines(records, request_id):
    return [
        r
        for r in records
        if r["request_id"] == request_id and r["logger"] == "tts_service.observability.logging"
    ]


def test_the_request_id_comes_back_and_is_in_every_log_line(serve, make_service, json_logs):
    client = serve(make_service(FakeEngine(text_tone)))
    response = client.post(
        "/v1/read",
        json={"text": SECRET_TEXT},
        headers={
            "X-Request-ID": "portal-42.req_7",
            "Authorization": "Bearer s3cr3t-t0ken",
            "X-API-Key": "k3y-abcdef",
            "Cookie": "session=c00kie",
        },
    )
    assert response.status_code == 202
    assert response.headers["x-request-id"] == "portal-42.req_7"
    records, text = json_logs()
    assert records, "nothing was logged"
    for record in records:
        assert {"time", "level", "logger", "message", "request_id"} <= set(record)
    [line] = access_lines(records, "portal-42.req_7")
    assert line["level"] == "INFO"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/v1/read", 202)
    assert line["duration_ms"] >= 0
    # Neither the article nor any credential reaches the logs.
    for secret in ("4711", "Trần Văn Bí", "giữ kín", "s3cr3t", "k3y-abcdef", "c00kie"):
        assert secret not in text


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "has space", "<script>alert(1)</script>", "a/b", "ünïcode", ""],
)
def test_an_unusable_incoming_request_id_is_replaced(serve, make_service, json_logs, incoming):
    client = serve(make_service(FakeEngine(text_tone)))
    response = client.get("/healthz", headers={"X-Request-ID": incoming.encode()})
    assert response.status_code == 200
    returned = response.headers["x-request-id"]
    assert GENERATED.fullmatch(returned)
    records, text = json_logs()
    assert len(access_lines(records, returned)) == 1
    if incoming:
        assert incoming not in text


def test_each_request_without_an_id_gets_a_new_one(serve, make_service):
    client = serve(make_service(FakeEngine(text_tone)))
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/v1/read/" + "0" * 40).headers["x-request-id"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [("abc", True), ("A.b_c-9", True), ("x" * 64, True), ("x" * 65, False), (None, False)],
)
def test_accept_request_id(incoming, kept):
    result = accept_request_id(incoming)
    assert (result == incoming) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", result)


def test_json_lines_carry_extras_and_exceptions():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("once",), sys.exc_info()
        )
    record.chunk = "ab12"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed once" and line["level"] == "ERROR"
    assert line["chunk"] == "ab12" and line["request_id"] is None
    assert "ValueError: boom" in line["exc_info"]


def test_configure_logging_replaces_its_own_handler(json_logs):  # noqa: ARG001
    stream = io.StringIO()
    configure_logging("warning", fmt="text", stream=stream)
    root = logging.getLogger()
    assert [h.get_name() for h in root.handlers].count(HANDLER_NAME) == 1
    assert root.level == logging.WARNING
    logging.getLogger("tts_service.test").warning("plain %s", "text")
    assert stream.getvalue().endswith("WARNING tts_service.test [None] plain text\n")


def test_a_jobs_lines_carry_the_id_of_the_request_that_started_it(serve, make_service, json_logs):
    engine_log = logging.getLogger("tests.engine")

    def refuses(_text: str) -> bytes:
        # Logged on an engine thread, as gTTS's retry warnings are.
        engine_log.warning("primary refused a chunk")
        raise SynthesisUnavailable("Google is down")

    service = make_service(
        FakeEngine(refuses, name="primary"), FakeEngine(text_tone, name="backup")
    )
    client = serve(service)
    started = client.post(
        "/v1/read", json={"text": "Xin chào các bạn."}, headers={"X-Request-ID": "portal-9"}
    )
    assert started.status_code in (200, 202)
    audio = client.get(f"/v1/audio/{started.json()['id']}.mp3")  # streams to the job's end
    assert audio.status_code == 200 and audio.headers["x-request-id"] != "portal-9"
    records, _ = json_logs()
    refused = [r for r in records if r["message"] == "primary refused a chunk"]
    switched = [
        r for r in records if r["logger"] == "tts_service.synthesis" and "failed" in r["message"]
    ]
    assert refused and switched
    assert {r["request_id"] for r in refused + switched} == {"portal-9"}


def test_a_registry_jobs_lines_carry_the_job(serve, make_service, json_logs):
    engine = CountingEngine()
    service = make_service(engine, api_keys=[{"name": "cms", "key": KEY}])
    client = serve(service)
    queued = put(client, "tin", text="Hội nghị sơ kết công tác quý IV.")
    job = wait_job(client, queued.json()["job"]["id"])
    assert job["state"] == "done"
    records, _ = json_logs()
    ready = [
        r
        for r in records
        if r["logger"] == "tts_service.registry.worker" and "ready" in r["message"]
    ]
    assert ready
    assert {r["request_id"] for r in ready} == {f"job-{job['id']}"}
