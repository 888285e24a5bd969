"""The FastAPI application: routers, error mapping, CORS and the service's lifetime.

Observability is wired here: every app has a :class:`ServiceMetrics` (the service's own,
or a new one for the service its lifespan builds) served at ``/metrics``, and every request
gets an ``X-Request-ID``. Logging is configured in one place only — the lifespan, when the
app builds its own service (``tts-service serve``, ``uvicorn tts_service.api.main:app``);
apps built around a caller's service (tests) leave the process's logging alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tts_service import __version__, textwork
from tts_service.api.errors import bilingual_detail, describe_validation
from tts_service.api.limits import BodySizeLimitMiddleware, ReadGuard, body_limit
from tts_service.api.routes import (
    articles,
    docs,
    feeds,
    health,
    lexicon,
    normalize,
    player,
    speech,
)
from tts_service.api.routes import metrics as metrics_route
from tts_service.cache import AudioCache
from tts_service.console import router as console_router
from tts_service.console.listening import router as listening_router
from tts_service.coordination.runtime import open_coordination
from tts_service.engines.registry import build_engines
from tts_service.errors import (
    ArticleNotFound,
    ArticleTaken,
    CacheError,
    EditConflict,
    FetchFailed,
    FetchTimeout,
    FetchTooLarge,
    ForbiddenTarget,
    InputError,
    NotAllowed,
    RegistryError,
    SynthesisUnavailable,
    TextTooLongError,
    TooManyRequests,
)
from tts_service.isolation import WorkerPool
from tts_service.observability.logging import RequestIdMiddleware, configure_logging
from tts_service.observability.memory import MemoryTrimmer, tune_allocator
from tts_service.observability.metrics import HTTPMetricsMiddleware, ServiceMetrics
from tts_service.registry.runtime import RegistryRuntime
from tts_service.settings import Settings, get_settings
from tts_service.storage import store_from_settings
from tts_service.synthesis import SpeechService

__all__ = ["app", "build_service", "create_app", "text_pool"]

logger = logging.getLogger(__name__)


def build_service(
    settings: Settings, *, metrics: ServiceMetrics | None = None, isolated: bool = False
) -> SpeechService:
    """The service with the configured engines and cache, recording into ``metrics``.

    ``isolated`` (the served app) processes request text in ``TTS_TEXT_WORKERS`` worker
    processes under ``TTS_TEXT_DEADLINE_S`` (:mod:`tts_service.isolation`); they start
    with the service's :meth:`~SpeechService.warm_up`. The CLI reads in its own process.
    """
    cache = AudioCache(
        settings.cache_dir,
        max_bytes=settings.cache_max_bytes,
        store=store_from_settings(settings),
        database_url=settings.database_url,
    )
    # Single flight, Google's budget and the breaker: this process's, or shared by every
    # process when a database is configured or several serve (`serve --workers N`).
    coordination = open_coordination(settings)
    engines = build_engines(settings, coordination)
    metrics = metrics if metrics is not None else ServiceMetrics()
    metrics.hook_engines(engines)
    isolation = text_pool(settings) if isolated else None
    return SpeechService(
        settings,
        engines=engines,
        cache=cache,
        metrics=metrics,
        isolation=isolation,
        coordination=coordination,
    )


def text_pool(settings: Settings) -> WorkerPool:
    """The worker processes that extract and normalise request text (not yet started)."""
    return WorkerPool(
        settings.text_workers,
        deadline_s=settings.text_deadline_s,
        memory_limit=settings.text_worker_memory_mb * 1024 * 1024,
        warm=textwork.warm,
        preload=textwork.PRELOAD,
    )


# Asked one by one to build a 405's Allow: routes answer whether they match a method, which
# works however the framework nests included routers.
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def create_app(
    settings: Settings | None = None, *, service: SpeechService | None = None
) -> FastAPI:
    """Build the app; tests pass their own ``service`` (fake engine, temporary cache)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = getattr(app.state, "service", None) is None
        trimmer = None
        if owned:
            config = settings or get_settings()
            configure_logging(config.log_level, fmt=config.log_format)
            # Before the service's threads start: arenas made earlier are kept.
            tune_allocator()
            if config.memory_trim_s:
                trimmer = MemoryTrimmer(config.memory_trim_s)
                trimmer.start()
            app.state.service = build_service(config, metrics=app.state.metrics, isolated=True)
            await run_in_threadpool(app.state.service.warm_up)
        # The editors' registry runs beside whichever service this app serves.
        runtime = await run_in_threadpool(RegistryRuntime, app.state.service)
        app.state.registry = runtime.registry
        app.state.metrics.observe_registry(lambda: runtime.store if app.state.registry else None)
        runtime.start()
        try:
            yield
        finally:
            await run_in_threadpool(runtime.close)
            app.state.registry = None
            if owned:
                app.state.service.close()
                app.state.service = None
            if trimmer is not None:
                trimmer.close()

    app = FastAPI(
        title="Vietnamese read-aloud service",
        version=__version__,
        description="Đọc nội dung: bài viết tiếng Việt thành MP3 kèm mốc thời gian từng câu.",
        lifespan=lifespan,
        # Served by routes/docs.py from installed assets: the defaults load them from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    if service is not None:
        app.state.service = service
    app.state.metrics = service.metrics if service is not None else ServiceMetrics()
    app.state.metrics.observe(lambda: getattr(app.state, "service", None))
    config = settings or get_settings()
    app.state.settings = config
    app.state.read_guard = ReadGuard.from_settings(config)
    # Innermost of the middlewares: an oversized body is still logged, counted and, for a
    # browser, answered with CORS headers it can read.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=body_limit(config))
    origins = list(config.cors_origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],  # the editors' API is server to server: no CORS
            allow_headers=["Content-Type", "Range", "If-None-Match"],
            expose_headers=[
                "Content-Range",
                "Accept-Ranges",
                "Content-Length",
                "ETag",
                "X-TTS-Engine",
                "Retry-After",
            ],
        )

    # Added last, so outermost: the id is set before, and the count taken after, the rest.
    app.add_middleware(HTTPMetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestIdMiddleware)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            # GET and POST /v1/read are two routes; Starlette's 405 names only the first
            # one's method. Allow must list every method the path is served with.
            allowed = [
                method
                for method in _METHODS
                if any(
                    route.matches({**request.scope, "method": method})[0] is Match.FULL
                    for route in request.app.router.routes
                )
            ]
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        exc.detail = bilingual_detail(exc.status_code, exc.detail)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": describe_validation(exc.errors())}, status_code=422)

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        if isinstance(exc, ForbiddenTarget):
            code = 403
        elif isinstance(exc, TextTooLongError | FetchTooLarge):
            code = 413
        else:
            code = 422
        return JSONResponse({"detail": str(exc)}, status_code=code)

    @app.exception_handler(TooManyRequests)
    async def _too_many(_: Request, exc: TooManyRequests) -> JSONResponse:
        retry = str(max(1, math.ceil(exc.retry_after)))
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": retry})

    @app.exception_handler(FetchFailed)
    async def _fetch_failed(_: Request, exc: FetchFailed) -> JSONResponse:
        # The portal's page, not this service, failed: a gateway error.
        code = 504 if isinstance(exc, FetchTimeout) else 502
        return JSONResponse({"detail": str(exc)}, status_code=code)

    @app.exception_handler(SynthesisUnavailable)
    async def _unavailable(_: Request, exc: SynthesisUnavailable) -> JSONResponse:
        retry = str(round(exc.retry_after or 30))
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": retry})

    @app.exception_handler(CacheError)
    async def _cache(_: Request, exc: CacheError) -> JSONResponse:
        logger.error("cache failure: %s", exc)
        return JSONResponse(
            {"detail": "Bộ nhớ đệm âm thanh đang lỗi, xin thử lại sau (audio cache unavailable)."},
            status_code=503,
            headers={"Retry-After": "60"},
        )

    @app.exception_handler(ArticleNotFound)
    async def _not_found(_: Request, exc: ArticleNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(ArticleTaken)
    async def _taken(_: Request, exc: ArticleTaken) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(NotAllowed)
    async def _not_allowed(_: Request, exc: NotAllowed) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(EditConflict)
    async def _conflict(_: Request, exc: EditConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=412)

    @app.exception_handler(RegistryError)
    async def _registry(_: Request, exc: RegistryError) -> JSONResponse:
        logger.error("registry failure: %s", exc)
        return JSONResponse(
            {"detail": "Kho bài viết đang lỗi, xin thử lại sau (article registry unavailable)."},
            status_code=503,
            headers={"Retry-After": "30"},
        )

    app.include_router(health.router)
    app.include_router(articles.router)
    app.include_router(lexicon.router)
    app.include_router(speech.router)
    app.include_router(normalize.router)
    app.include_router(player.router)
    app.include_router(metrics_route.router)
    app.include_router(docs.router)
    app.include_router(feeds.router)
    app.include_router(console_router)
    app.include_router(listening_router)
    return app


app = create_app()
