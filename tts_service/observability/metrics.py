"""Prometheus metrics on a registry each service owns, and the middleware that feeds HTTP ones.

Every :class:`ServiceMetrics` has its own :class:`~prometheus_client.CollectorRegistry`, never
the process-wide default, so a test can build several apps side by side. ``GET /metrics``
renders it in the Prometheus text format.

Metrics and their labels (every label takes a bounded set of values)::

    tts_http_requests_total{method, route, status}     route = template, e.g. /v1/read/{article_id}
    tts_http_request_duration_seconds{method, route}   histogram; a stream counts until its end
    tts_cache_lookups_total{kind, result}              kind = article | chunk, result = hit | miss
    tts_synthesis_duration_seconds{engine}             histogram; engine call + conversion
    tts_chunks_total{engine, outcome}                  outcome = ok | unavailable | rejected
    tts_engine_http_responses_total{engine, status}    every HTTP status an engine received
    tts_engine_rate_limited_total{engine}              the 429s among them (Google's quota)
    tts_jobs_in_progress                               articles started and not finished
    tts_jobs_finished_total{outcome}                   outcome = ready | failed
    tts_cache_bytes                                    read from the cache index at scrape time
    tts_engine_breaker_state{engine}                   read at scrape time: 0 closed, 1 half-open,
                                                       2 open; absent for unguarded engines
    tts_engine_breaker_opened_total{engine}            read at scrape time from the breaker's
    tts_engine_breaker_short_circuited_total{engine}   counters (engines.breaker.BreakerCounters)
    tts_chunks_queued{engine, lane}                    chunks waiting for an engine thread;
                                                       lane = listener | background
    tts_registry_jobs{state}                           registered articles' jobs: queued | running
    tts_registry_articles{status}                      queued | synthesising | ready | failed
    tts_text_workers_killed_total                      read at scrape time: text workers killed
                                                       past TTS_TEXT_DEADLINE_S (or that died)

An article *hit* is a read answered with stored audio; a *miss* starts or joins a job.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tts_service.errors import CacheError, SynthesisRejected, TTSError

__all__ = [
    "BREAKER_STATES",
    "CONTENT_TYPE",
    "HTTPMetricsMiddleware",
    "Observed",
    "ServiceMetrics",
    "breaker_state",
    "route_template",
]

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What ``GET /metrics`` answers with: the classic text format every Prometheus reads."""

BREAKER_STATES: Mapping[str, int] = {"closed": 0, "half_open": 1, "open": 2}
"""Gauge values of a circuit breaker's states (``half-open`` is read as ``half_open``)."""

# A whole article may stream for minutes; the top buckets keep such requests apart.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# eSpeak answers in milliseconds, Google in about a second, retries in several.
_SYNTHESIS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32)
_UNMATCHED = "unmatched"


class _SizedCache(Protocol):
    """What the scrape reads from the audio cache."""

    @property
    def total_bytes(self) -> int:
        """Bytes of every entry in the cache."""
        ...


class Observed(Protocol):
    """What the scrape reads from a running service (``SpeechService`` fits)."""

    @property
    def cache(self) -> _SizedCache:
        """The audio cache."""
        ...

    @property
    def engines(self) -> Mapping[str, object]:
        """The engines by name, possibly guarded by circuit breakers."""
        ...


def _layers(engine: object) -> Iterator[object]:
    """The engine, then the engines it wraps (``GuardedEngine.engine``), outermost first."""
    seen: set[int] = set()
    current: object | None = engine
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = getattr(current, "engine", None)


def breaker_state(engine: object) -> int | None:
    """An engine's circuit-breaker state as a gauge value, or ``None`` if it has no breaker.

    Reads ``engine.breaker.state`` (a :class:`~tts_service.engines.breaker.GuardedEngine`'s
    :class:`~tts_service.engines.breaker.BreakerState`), or else ``engine.breaker_state``,
    for other guards. Either may be a name (``"open"``, ``"half-open"``), an enum of names
    or values, or the number itself; anything unrecognised reads as ``None``. Duck-typed, so
    this module does not depend on how engines are guarded.
    """
    breaker = getattr(engine, "breaker", None)
    if breaker is not None:
        state = getattr(breaker, "state", None)
    else:
        state = getattr(engine, "breaker_state", None)
    if isinstance(state, enum.Enum):
        state = state.value if isinstance(state.value, str | int) else state.name
    if isinstance(state, bool):
        return None
    if isinstance(state, int):
        return state if state in BREAKER_STATES.values() else None
    if isinstance(state, str):
        return BREAKER_STATES.get(state.strip().lower().replace("-", "_").replace(" ", "_"))
    return None


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/read/{article_id}``), never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else _UNMATCHED


class _LiveCollector:
    """Gauges read when Prometheus scrapes: the cache's size and the engines' breakers."""

    def __init__(self) -> None:
        self.source: Callable[[], Observed | None] = lambda: None
        # The article registry's store (duck-typed: ``queue_depth()`` and ``counts()``).
        self.registry: Callable[[], Any] = lambda: None

    def describe(self) -> Iterator[Metric]:
        """The families collected, without values (lets the registry check names)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """Read the running service, if there is one, into fresh families."""
        cache_bytes, states, opened, skipped = self._families()
        service = self.source()
        if service is not None:
            try:
                cache_bytes.add_metric([], service.cache.total_bytes)
            except (CacheError, sqlite3.Error) as exc:
                # A closed or broken index must not fail the whole scrape.
                logger.warning("cache size unavailable for metrics: %s", exc)
            for name, engine in service.engines.items():
                state = breaker_state(engine)
                if state is not None:
                    states.add_metric([name], state)
                counters = getattr(getattr(engine, "breaker", None), "counters", None)
                for family, field in ((opened, "opened"), (skipped, "short_circuited")):
                    count = getattr(counters, field, None)
                    if isinstance(count, int):
                        family.add_metric([name], count)
        yield cache_bytes
        yield states
        yield opened
        yield skipped
        yield self._queued(service)
        yield self._killed(service)
        yield from self._registry()

    @staticmethod
    def _killed(service: Observed | None) -> CounterMetricFamily:
        killed = CounterMetricFamily(
            "tts_text_workers_killed",
            "Text workers killed for running past TTS_TEXT_DEADLINE_S, or that died: each "
            "a request answered 422 'text too complex'.",
        )
        # Duck-typed: a WorkerPool counts them; in-process text work has none to count.
        count = getattr(getattr(service, "isolation", None), "replaced", None)
        if isinstance(count, int):
            killed.add_metric([], count)
        return killed

    @staticmethod
    def _queued(service: Observed | None) -> GaugeMetricFamily:
        queued = GaugeMetricFamily(
            "tts_chunks_queued",
            "Chunks waiting for an engine thread, by engine and lane (listener, background).",
            labels=["engine", "lane"],
        )
        # Duck-typed: SpeechService has it; a bare Observed need not.
        read = getattr(service, "chunks_queued", None)
        if callable(read):
            for (engine, lane), count in read().items():
                queued.add_metric([engine, lane], count)
        return queued

    def _registry(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "tts_registry_jobs",
            "Registered articles' jobs waiting (queued) and being read (running).",
            labels=["state"],
        )
        articles = GaugeMetricFamily(
            "tts_registry_articles", "Registered articles by status.", labels=["status"]
        )
        store = self.registry()
        if store is not None:
            try:
                depth = store.queue_depth()
                for state in ("queued", "running"):
                    jobs.add_metric([state], depth.get(state, 0))
                counts = store.counts()
                for status in ("queued", "synthesising", "ready", "failed"):
                    articles.add_metric([status], counts.get(status, 0))
            except TTSError as exc:
                logger.warning("registry unavailable for metrics: %s", exc)
        yield jobs
        yield articles

    @staticmethod
    def _families() -> tuple[
        GaugeMetricFamily, GaugeMetricFamily, CounterMetricFamily, CounterMetricFamily
    ]:
        return (
            GaugeMetricFamily("tts_cache_bytes", "Bytes of audio and metadata in the cache."),
            GaugeMetricFamily(
                "tts_engine_breaker_state",
                "Circuit breaker of each guarded engine: 0 closed, 1 half-open, 2 open.",
                labels=["engine"],
            ),
            # Between two scrapes a breaker may open and close again; these still show it.
            CounterMetricFamily(
                "tts_engine_breaker_opened",
                "Times each engine's circuit breaker opened (re-openings included).",
                labels=["engine"],
            ),
            CounterMetricFamily(
                "tts_engine_breaker_short_circuited",
                "Calls each engine's open breaker failed at once, without the engine.",
                labels=["engine"],
            ),
        )


class ServiceMetrics:
    """The service's metrics on a registry of their own; see the module docstring for names.

    The recording methods are what the service calls; they are cheap and thread-safe.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self.http_requests = Counter(
            "tts_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=reg,
        )
        self.http_duration = Histogram(
            "tts_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ("method", "route"),
            buckets=_HTTP_BUCKETS,
            registry=reg,
        )
        self.cache_lookups = Counter(
            "tts_cache_lookups",
            "Article and chunk lookups in the audio cache, by result.",
            ("kind", "result"),
            registry=reg,
        )
        self.synthesis_duration = Histogram(
            "tts_synthesis_duration_seconds",
            "Time for an engine to turn one chunk into house-format audio.",
            ("engine",),
            buckets=_SYNTHESIS_BUCKETS,
            registry=reg,
        )
        self.chunks = Counter(
            "tts_chunks",
            "Chunks sent to an engine, by outcome (ok, unavailable, rejected).",
            ("engine", "outcome"),
            registry=reg,
        )
        self.engine_responses = Counter(
            "tts_engine_http_responses",
            "HTTP statuses an engine received from its upstream (Google for gtts).",
            ("engine", "status"),
            registry=reg,
        )
        self.rate_limited = Counter(
            "tts_engine_rate_limited",
            "HTTP 429 answers an engine received (retried, then given up on).",
            ("engine",),
            registry=reg,
        )
        self.jobs_in_progress = Gauge(
            "tts_jobs_in_progress",
            "Articles queued or being synthesised.",
            registry=reg,
        )
        self.jobs_finished = Counter(
            "tts_jobs_finished",
            "Articles finished, by outcome (ready, failed).",
            ("outcome",),
            registry=reg,
        )
        for kind in ("article", "chunk"):
            for result in ("hit", "miss"):
                self.cache_lookups.labels(kind, result)
        self._live = _LiveCollector()
        reg.register(self._live)

    # -- wiring ------------------------------------------------------------------------

    def observe_registry(self, source: Callable[[], Any]) -> None:
        """Read the registry's queue depth and article counts from ``source()`` at scrapes."""
        self._live.registry = source

    def observe(self, source: Callable[[], Observed | None]) -> None:
        """Read cache size and breaker states from ``source()`` at each scrape.

        ``source`` returns the running service, or ``None`` while there is none (before
        start-up, after shutdown); calling this again replaces the previous source.
        """
        self._live.source = source

    def hook_engines(self, engines: Mapping[str, object]) -> None:
        """Count the HTTP statuses of engines that report them through ``on_status``.

        Wrapped engines are looked through (a guarded gtts engine's ``engine``). Only an
        ``on_status`` attribute left at ``None`` is hooked; one already hooked is left alone.
        """
        for name, engine in engines.items():
            for layer in _layers(engine):
                if hasattr(layer, "on_status") and layer.on_status is None:
                    layer.on_status = partial(self.engine_status, name)
                    break

    # -- recording ---------------------------------------------------------------------

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_duration.labels(method, route).observe(seconds)

    def article_lookup(self, *, hit: bool) -> None:
        """Count a read answered from stored audio (hit) or by a job (miss)."""
        self.cache_lookups.labels("article", "hit" if hit else "miss").inc()

    def chunk_lookup(self, *, hit: bool) -> None:
        """Count a chunk found in the cache (hit) or to be synthesised (miss)."""
        self.cache_lookups.labels("chunk", "hit" if hit else "miss").inc()

    @contextmanager
    def chunk_synthesis(self, engine: str) -> Iterator[None]:
        """Time the block and count its outcome for ``engine``.

        A :class:`~tts_service.errors.SynthesisRejected` is ``rejected``; any other
        exception is ``unavailable``; it is re-raised either way.
        """
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            yield
            outcome = "ok"
        except SynthesisRejected:
            outcome = "rejected"
            raise
        finally:
            self.synthesis_duration.labels(engine).observe(time.perf_counter() - started)
            self.chunks.labels(engine, outcome).inc()

    def engine_status(self, engine: str, status: int) -> None:
        """Count one HTTP status received by ``engine``; 429s also count as rate limited."""
        label = str(status) if 100 <= status <= 599 else "invalid"
        self.engine_responses.labels(engine, label).inc()
        if status == 429:
            self.rate_limited.labels(engine).inc()

    def job_started(self) -> None:
        """An article's job was created."""
        self.jobs_in_progress.inc()

    def job_finished(self, outcome: str) -> None:
        """An article's job ended, ``ready`` or ``failed``."""
        self.jobs_in_progress.dec()
        self.jobs_finished.labels(outcome).inc()

    # -- exposition --------------------------------------------------------------------

    def render(self) -> bytes:
        """The registry in the Prometheus text format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)


class HTTPMetricsMiddleware:
    """ASGI middleware counting requests by method, route template and status, with latency.

    Recorded just before the last body message is sent, so a client that has read a
    response finds it counted on its next scrape; requests that end without one (a
    dropped stream, an error) are recorded when the app returns or raises.
    """

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and record it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.metrics.http_request(
                    scope["method"], route_template(scope), status, time.perf_counter() - started
                )

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            record()
