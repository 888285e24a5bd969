"""Helpers for the editors' API tests: keys, a thread-safe counting engine, waiting."""

from __future__ import annotations

import threading

from tests.helpers import text_tone
from tts_service.errors import SynthesisRejected
from tts_service.testing import FakeEngine

KEY = "cms-key-0123456789abcdef"
OTHER = "other-key-0123456789abcdef"
ADMIN = "admin-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER}"}
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
#: The keys of the ``cms`` fixture: two portals' CMSes and the editor-in-chief.
KEYS = [
    {"name": "cms", "key": KEY},
    {"name": "other", "key": OTHER, "role": "cms"},
    {"name": "admin", "key": ADMIN, "role": "admin"},
]
ARTICLE = (
    "UBND tỉnh Lạng Sơn họp phiên thường kỳ tháng 7.\n\n"
    "Hội nghị thống nhất kế hoạch quý III năm 2024. Các sở báo cáo tiến độ.\n\n"
    "Chủ tịch UBND tỉnh yêu cầu hoàn thành trước ngày 30/9."
)


class CountingEngine(FakeEngine):
    """A fake engine that records calls under a lock (workers call it from threads).

    Text containing ``fail_on`` is refused (``failures_left`` times, or for good).
    """

    def __init__(self) -> None:
        super().__init__(text_tone, name="fake", concurrency=2)
        self._lock = threading.Lock()
        self.fail_on: str | None = None
        # How many times to refuse it; None = every time.
        self.failures_left: int | None = None

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:
        with self._lock:
            self.calls.append(text)
        if self.fail_on is not None and self.fail_on in text and self.failures_left != 0:
            if self.failures_left is not None:
                self.failures_left -= 1
            raise SynthesisRejected("Giọng đọc từ chối câu này (the engine rejected it).")
        return text_tone(text)


def put(client, article_id, **body):
    return client.put(f"/v1/articles/{article_id}", json=body, headers=AUTH)


def wait_job(client, job_id, headers=AUTH):
    answer = client.get(f"/v1/jobs/{job_id}", params={"wait": 30}, headers=headers)
    assert answer.status_code == 200, answer.text
    job = answer.json()
    assert job["state"] not in ("queued", "running"), job
    return job


def register(store, article_id, text="Xin chào.", *, priority=0, reason="put", owner="cms"):
    """Register a text article straight in the store, as another process would."""
    return store.put_source(
        article_id,
        title=None,
        kind="text",
        source=text,
        selector=None,
        revision=None,
        owner=owner,
        reason=reason,
        priority=priority,
    )
