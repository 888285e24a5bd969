"""Webhook deliveries against a real receiver on loopback: signatures, retries, restarts."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import textwrap
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from pydantic import SecretStr

import tts_service.registry.webhooks as webhooks_module
from tests.helpers import live_server
from tts_service import __version__
from tts_service.registry.db import Database
from tts_service.registry.webhooks import Webhooks, iso_utc, sign, verify
from tts_service.settings import ApiKey, Settings

SECRET = "whsec-test-secret-0123456789"
PAYLOAD = {"id": "bai-viet-42", "title": "Giá xăng giảm 500 đồng", "status": "ready"}


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it; header names are lower case."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class Receiver:
    """A CMS's webhook endpoint: records every call, answers scripted statuses, then 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: deque[int] = deque()
        self.default = 200
        self._arrived = threading.Condition()
        self.app = FastAPI()
        self.app.post("/hook")(self._hook)
        self.url = ""

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self._arrived:
            self.requests.append(Received(dict(request.headers), body))
            status = self.script.popleft() if self.script else self.default
            self._arrived.notify_all()
        return Response(content=b"ok" if status < 300 else b"refused", status_code=status)

    def wait_for(self, count: int) -> list[Received]:
        """Block until ``count`` requests arrived (bounded, so a bug fails instead of hanging)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=15)
            assert arrived, f"expected {count} webhook calls, got {len(self.requests)}"
            return list(self.requests)


@pytest.fixture
def receiver():
    receiver = Receiver()
    with live_server(receiver.app) as base:
        receiver.url = f"{base}/hook"
        yield receiver


@pytest.fixture
def db(store_url):
    database = Database(store_url)
    yield database
    database.close()


@pytest.fixture
def make_webhooks(db, receiver):
    """Build Webhooks for a ``cms`` key whose webhook is the receiver; closed after the test."""
    built: list[Webhooks] = []

    def build(*, database=None, keys=None, **overrides):
        options: dict[str, Any] = {
            "attempts": 5,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
            "timeout_s": 5,
        }
        options.update(overrides)
        if keys is None:
            keys = [cms_key(receiver.url)]
        webhooks = Webhooks(database or db, keys, **options)
        built.append(webhooks)
        return webhooks

    yield build
    for webhooks in built:
        webhooks.close()


def cms_key(url: str | None, *, name: str = "cms") -> ApiKey:
    return ApiKey(
        name=name,
        key=SecretStr("k" * 32),
        webhook_url=url,
        webhook_secret=SecretStr(SECRET) if url is not None else None,
    )


@contextmanager
def given_up():
    """An Event set when the sender logs a warning, i.e. gives a delivery up.

    For deliveries that never reach the receiver, so there is no request to wait for.
    """
    with logged(lambda record: record.levelno >= logging.WARNING) as done:
        yield done


@contextmanager
def logged(matches):
    """An Event set when the sender logs a record for which ``matches`` is true."""
    done = threading.Event()

    class Watcher(logging.Handler):
        def emit(self, record):
            if matches(record):
                done.set()

    handler = Watcher()
    logger = logging.getLogger("tts_service.registry.webhooks")
    level = logger.level
    logger.setLevel(logging.DEBUG)  # INFO records reach the handler whatever the config
    logger.addHandler(handler)
    try:
        yield done
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def count_rows(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.text("SELECT COUNT(*) FROM deliveries")).scalar_one())


# -- signatures ------------------------------------------------------------------------


def test_signature_verifies_with_the_right_secret_only():
    body = json.dumps({"event": "article.ready", "article": PAYLOAD}).encode()
    header = sign(SECRET, 1_700_000_000, body)

    assert header.startswith("t=1700000000,v1=")
    assert verify(SECRET, header, body, now=1_700_000_010)
    assert not verify("another-secret", header, body, now=1_700_000_010)
    assert not verify(SECRET, header, body.replace(b"ready", b"faild"), now=1_700_000_010)


def test_signature_refuses_old_and_future_timestamps():
    body = b'{"event":"article.ready"}'
    header = sign(SECRET, 1_700_000_000, body)

    assert verify(SECRET, header, body, now=1_700_000_300)
    assert not verify(SECRET, header, body, now=1_700_000_301), "a replay five minutes later"
    assert not verify(SECRET, header, body, now=1_699_999_000), "a timestamp from the future"
    assert verify(SECRET, header, body, now=1_700_003_000, tolerance_s=3600)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=1700000000",
        "v1=abc",
        "t=soon,v1=abc",
        "t=1700000000,v1=",
        "t=-5,v1=ab",
        # Too large for a float (OverflowError), then for int() itself (ValueError).
        "t=" + "9" * 400 + ",v1=ab",
        "t=" + "1" * 5000 + ",v1=ab",
    ],
)
def test_malformed_signature_headers_are_false_not_errors(header):
    assert not verify(SECRET, header, b"{}", now=1_700_000_000)


def test_any_v1_may_match_and_unknown_schemes_are_ignored():
    """While a secret is rotated, two v1 signatures may be sent; a future v2 must not break v1."""
    body = b"{}"
    good = sign(SECRET, 1_700_000_000, body)
    old = sign("the-previous-secret", 1_700_000_000, body).split(",")[1]
    header = f"{good.split(',')[0]},{old},v2=whatever,{good.split(',')[1]}"

    assert verify(SECRET, header, body, now=1_700_000_000)
    assert verify("the-previous-secret", header, body, now=1_700_000_000)


def test_the_docstring_example_for_cms_developers_works():
    doc = webhooks_module.__doc__ or ""
    start = doc.index("    import hashlib")
    block = doc[start : doc.index("\n\n", doc.index("return any(", start))]
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(block), namespace)  # the example must run as printed
    example = namespace["verify"]
    body = b'{"event":"article.ready"}'
    header = sign(SECRET, int(time.time()), body)
    assert example(SECRET, header, body)
    assert not example("wrong", header, body)
    assert not example(SECRET, "t=²,v1=é", body), "hostile headers are False, not errors"
    assert not example(SECRET, sign(SECRET, int(time.time()) - 3600, body), body)
    # Sanity: the example is the documented HMAC, not our own sign() in disguise.
    expected = hmac.new(SECRET.encode(), b"1." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1, body).endswith(expected)


def test_iso_utc():
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    assert iso_utc(1_714_552_200.25) == "2024-05-01T08:30:00.250Z"


# -- deliveries ------------------------------------------------------------------------


def test_a_delivery_is_signed_and_carries_its_event_and_id(make_webhooks, receiver):
    webhooks = make_webhooks()
    delivery_id = webhooks.enqueue("cms", "article.ready", PAYLOAD)
    webhooks.start()

    (call,) = receiver.wait_for(1)
    webhooks.close()

    assert delivery_id is not None
    assert call.headers["x-tts-event"] == "article.ready"
    assert call.headers["x-tts-delivery"] == str(delivery_id)
    assert call.headers["content-type"] == "application/json"
    assert call.headers["user-agent"] == f"tts-service/{__version__}"
    assert verify(SECRET, call.headers["x-tts-signature"], call.body)
    body = call.json
    assert body["event"] == "article.ready"
    assert body["delivery"] == delivery_id
    assert body["article"] == PAYLOAD
    assert body["created"].endswith("Z")
    assert datetime.fromisoformat(body["created"]).utcoffset() == timedelta(0)
    stored = webhooks.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.last_status) == ("delivered", 1, 200)
    assert stored.delivered is not None
    assert webhooks.pending() == 0


def test_server_errors_are_retried_with_the_same_delivery_id(make_webhooks, receiver):
    receiver.script.extend([500, 500])
    webhooks = make_webhooks(attempts=5)
    delivery_id = webhooks.enqueue("cms", "article.failed", PAYLOAD)
    webhooks.start()

    calls = receiver.wait_for(3)
    webhooks.close()

    assert len(receiver.requests) == 3
    assert {c.headers["x-tts-delivery"] for c in calls} == {str(delivery_id)}
    assert {c.body for c in calls} == {calls[0].body}, "the body is the same on every try"
    assert all(verify(SECRET, c.headers["x-tts-signature"], c.body) for c in calls)
    stored = webhooks.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.last_status) == ("delivered", 3, 200)
    assert stored.last_error is None


def test_a_receiver_that_always_fails_gets_attempts_tries(make_webhooks, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.default = 503
    webhooks = make_webhooks(attempts=3)
    delivery_id = webhooks.enqueue("cms", "article.ready", PAYLOAD)
    webhooks.start()

    receiver.wait_for(3)
    webhooks.close()

    assert len(receiver.requests) == 3
    stored = webhooks.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.last_status) == ("failed", 3, 503)
    assert stored.last_error == "HTTP 503: refused"
    assert webhooks.pending() == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(delivery_id) in r.getMessage() for r in warnings)
    assert SECRET not in caplog.text
    assert PAYLOAD["title"] not in caplog.text, "the body is never logged"


@pytest.mark.parametrize(
    ("status", "state", "calls"),
    [
        (410, "failed", 1),  # Gone: the endpoint was removed on purpose
        (400, "failed", 1),  # the receiver refuses these bytes; they won't change
        (401, "failed", 1),
        (408, "delivered", 2),
        (429, "delivered", 2),
        (302, "delivered", 2),  # not followed, tried again
    ],
)
def test_which_answers_stop_the_retries(make_webhooks, receiver, status, state, calls):
    receiver.script.append(status)
    webhooks = make_webhooks(attempts=5)
    delivery_id = webhooks.enqueue("cms", "article.ready", PAYLOAD)
    webhooks.start()

    receiver.wait_for(calls)
    webhooks.close()

    assert len(receiver.requests) == calls
    stored = webhooks.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts) == (state, calls)


def test_network_errors_are_retried_then_fail(make_webhooks):
    refused = "http://127.0.0.1:9/hook"  # the discard port: nothing listens
    webhooks = make_webhooks(keys=[cms_key(refused)], attempts=2, backoff_max_s=0)
    with given_up() as done:
        delivery_id = webhooks.enqueue("cms", "article.ready", PAYLOAD)
        webhooks.start()
        assert done.wait(15), "the delivery was never given up"
    webhooks.close()

    stored = webhooks.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.last_status) == ("failed", 2, None)
    assert stored.last_error is not None and "ConnectError" in stored.last_error


def test_a_queued_delivery_survives_a_restart(make_webhooks, receiver, store_url):
    first_db = Database(store_url)
    first = make_webhooks(database=first_db)
    delivery_id = first.enqueue("cms", "article.ready", PAYLOAD)
    first.close()  # stopped before its sender ever ran
    first_db.close()

    second_db = Database(store_url)
    try:
        second = make_webhooks(database=second_db)
        assert second.pending() == 1
        second.start()
        (call,) = receiver.wait_for(1)
        second.close()
        assert call.headers["x-tts-delivery"] == str(delivery_id)
        assert call.json["article"] == PAYLOAD
        assert second.pending() == 0
    finally:
        second_db.close()


def test_close_does_not_wait_out_a_backoff(make_webhooks, receiver):
    receiver.default = 503
    webhooks = make_webhooks(backoff_base_s=3600, backoff_max_s=3600)
    delivery_id = webhooks.enqueue("cms", "article.ready", PAYLOAD)
    webhooks.start()

    receiver.wait_for(1)
    webhooks.close()

    assert not webhooks.running
    stored = webhooks.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts) == ("queued", 1)
    assert webhooks.pending() == 1, "left for the next start"


def test_close_sends_what_is_due_now(make_webhooks, receiver):
    # A worker that finishes an article and stops must tell the CMS before it exits: the
    # delivery queued just before close() (here by another process, so nothing pokes this
    # sender) is sent by close(), not left for some process's look a minute later.
    sender = make_webhooks()
    with logged(lambda record: "delivered" in record.getMessage()) as recorded:
        sender.start()
        sender.enqueue("cms", "article.ready", PAYLOAD)
        assert recorded.wait(15)  # the sender has recorded it and is going idle
    other_process = make_webhooks()
    late = other_process.enqueue("cms", "article.failed", PAYLOAD)

    sender.close()

    assert [call.json["delivery"] for call in receiver.requests][1:] == [late]
    assert sender.pending() == 0


def test_no_webhook_url_stores_nothing(make_webhooks, db):
    webhooks = make_webhooks(keys=[cms_key(None, name="quiet"), cms_key("http://x/hook")])

    assert webhooks.enqueue("quiet", "article.ready", PAYLOAD) is None
    assert webhooks.enqueue(None, "article.ready", PAYLOAD) is None
    assert webhooks.enqueue("nobody", "article.ready", PAYLOAD) is None
    assert count_rows(db) == 0
    assert webhooks.pending() == 0


def test_bad_events_and_payloads_are_refused_and_store_nothing(make_webhooks, db):
    webhooks = make_webhooks()

    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks.enqueue("cms", "article.deleted", PAYLOAD)
    with pytest.raises(TypeError):
        webhooks.enqueue("cms", "article.ready", {"when": object()})
    assert count_rows(db) == 0


def test_a_webhook_removed_from_the_keys_fails_its_queued_deliveries(make_webhooks, receiver):
    first = make_webhooks()
    delivery_id = first.enqueue("cms", "article.ready", PAYLOAD)
    first.close()
    with given_up() as done:
        second = make_webhooks(keys=[cms_key(None)])
        second.start()
        assert done.wait(15), "the delivery was never given up"
    second.close()

    stored = second.get(delivery_id)
    assert stored is not None
    assert stored.state == "failed"
    assert stored.last_error == "API key 'cms' has no webhook now"
    assert receiver.requests == []


def test_backoff_is_capped_and_honours_retry_after(db):
    webhooks = Webhooks(db, [], attempts=9, backoff_base_s=1, backoff_max_s=5, timeout_s=1)

    for failed in range(1, 9):
        assert 0 <= webhooks._backoff(failed, None) <= min(5, 2 ** (failed - 1))
    assert webhooks._backoff(1, 3.0) == 3.0
    assert webhooks._backoff(1, 120.0) == 5.0


def test_from_settings(db):
    settings = Settings(
        api_keys=(cms_key("http://cms.example/hook"),),
        webhook_attempts=3,
        webhook_backoff_base_s=0.5,
        webhook_backoff_max_s=60,
        webhook_timeout_s=2,
    )
    webhooks = Webhooks.from_settings(db, settings)

    assert (webhooks.attempts, webhooks.backoff_base_s, webhooks.backoff_max_s) == (3, 0.5, 60)
    assert webhooks.timeout_s == 2
    assert webhooks.enqueue("cms", "article.ready", PAYLOAD) is not None
