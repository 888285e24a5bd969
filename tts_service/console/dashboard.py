"""The console's dashboard: the figures editors would rather look at than read.

Articles by status and the failures of the last 24 hours are the signed-in key's own (all
of them for an admin key); the queue, Google's request budget and circuit breaker and the
audio cache are the service's, the same for every key. Each figure becomes a small bar
chart drawn by the service (inline SVG in the template: no chart library, no CDN), with
the same numbers as text beside it for screen readers and for reading.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from tts_service.console.labels import STATUSES
from tts_service.observability.metrics import breaker_state
from tts_service.registry.access import SITE, may_access
from tts_service.registry.articles import ArticleRegistry
from tts_service.registry.tables import articles, jobs
from tts_service.settings import ApiKey

__all__ = ["Bar", "Dashboard", "build_dashboard"]

_DAY_S = 24 * 3600
_BREAKER_NAMES = {
    0: "Đóng (bình thường)",
    1: "Nửa mở (đang thử lại)",
    2: "Mở (dùng giọng dự phòng)",
}


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label, value, and length as a share (0–1) of the chart's largest."""

    label: str
    value: int
    share: float
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Every figure of the dashboard page."""

    by_status: list[Bar]
    queue: list[Bar]
    failures_by_hour: list[Bar]
    failures_total: int
    cache_bytes: int
    cache_cap: int
    breakers: list[tuple[str, str, str]]
    google_granted: int | None
    google_refused: int | None
    google_per_minute: int | None


def _bars(pairs: list[tuple[str, int, str]]) -> list[Bar]:
    top = max((value for _, value, _ in pairs), default=0) or 1
    return [Bar(label, value, value / top, kind) for label, value, kind in pairs]


def build_dashboard(
    registry: ArticleRegistry, *, key: ApiKey, now: float | None = None
) -> Dashboard:
    """The dashboard as ``key`` may see it, at ``now``."""
    now = time.time() if now is None else now
    by_status = sa.select(articles.c.status, sa.func.count()).group_by(articles.c.status)
    failures = sa.select(jobs.c.finished).where(
        jobs.c.state == "failed", jobs.c.finished >= now - _DAY_S
    )
    if not may_access(key, SITE):
        by_status = by_status.where(articles.c.owner == key.name)
        failures = failures.where(jobs.c.article_owner == key.name)
    # Read-only: the registry's store writes; the console only counts.
    with registry.store.db.read() as db:
        counted = {str(status): int(n) for status, n in db.execute(by_status).all()}
        failed = [float(finished) for (finished,) in db.execute(failures).all()]
    depth = registry.store.queue_depth()
    hours = [0] * 24
    for finished in failed:
        # Hour 23 is the last hour up to now, hour 0 the one a day ago.
        hours[min(23, max(0, 23 - int((now - finished) // 3600)))] += 1
    service = registry.service
    breakers = []
    granted = refused = per_minute = None
    for name, engine in service.engines.items():
        state = breaker_state(engine)
        if state is not None:
            breakers.append((name, _BREAKER_NAMES.get(state, str(state)), f"breaker-{state}"))
        limiter = getattr(engine, "limiter", None)
        if limiter is not None:
            granted, refused = int(limiter.granted), int(limiter.refused)
            per_minute = service.settings.gtts_requests_per_minute
    return Dashboard(
        by_status=_bars(
            [
                (label, int(counted.get(code, 0)), f"status-{code}")
                for code, label in STATUSES.items()
            ]
        ),
        queue=_bars(
            [
                ("Đang chờ", depth.get("queued", 0), "status-queued"),
                ("Đang đọc", depth.get("running", 0), "status-synthesising"),
            ]
        ),
        failures_by_hour=_bars(
            [
                (f"{23 - h} giờ trước" if h < 23 else "Giờ vừa qua", n, "failed")
                for h, n in enumerate(hours)
            ]
        ),
        failures_total=len(failed),
        cache_bytes=service.cache.total_bytes,
        cache_cap=service.cache.max_bytes,
        breakers=breakers,
        google_granted=granted,
        google_refused=refused,
        google_per_minute=per_minute,
    )
