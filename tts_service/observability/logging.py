"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

Where logging is configured: :func:`configure_logging` is called once, by
``tts_service.api.main.create_app``'s lifespan when the app owns its service — which is how
both ``tts-service serve`` and ``uvicorn tts_service.api.main:app`` (the Docker image) run
it. Library modules only ask for ``logging.getLogger(__name__)``; tests that build an app
around their own service leave the process's logging alone.

A JSON line looks like::

    {"time": "2026-05-01T08:00:00.123+00:00", "level": "INFO",
     "logger": "tts_service.observability.logging", "message": "POST /v1/read 202",
     "request_id": "7f0c…", "method": "POST", "route": "/v1/read", "status": 202, …}

:class:`RequestIdMiddleware` gives each HTTP request an id — the caller's ``X-Request-ID``
when it is at most 64 characters of ``[A-Za-z0-9._-]``, a fresh one otherwise — keeps it in a
context variable for the log records made while serving it, returns it in the
``X-Request-ID`` response header and writes one access line per request. Nothing here logs
request bodies, query strings or headers, so text, tokens and keys stay out of the logs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Literal

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tts_service.observability.metrics import route_template

__all__ = [
    "HANDLER_NAME",
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "LogFormat",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "accept_request_id",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
]

logger = logging.getLogger(__name__)

LogFormat = Literal["json", "text"]

REQUEST_ID_HEADER = "X-Request-ID"
HANDLER_NAME = "tts-service"
"""Name of the handler :func:`configure_logging` installs (and replaces when called again)."""

_REQUEST_ID: ContextVar[str | None] = ContextVar("tts_request_id", default=None)
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
# (uvicorn adds ``color_message``: the message again, with terminal colour codes.)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
    "color_message",
}
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def current_request_id() -> str | None:
    """The id of the request being served in this context, or ``None`` outside one."""
    return _REQUEST_ID.get()


@contextmanager
def bind_request_id(request_id: str) -> Iterator[None]:
    """Log the body's lines under ``request_id``: work no HTTP request started (a registry
    job run by a worker: ``job-17``)."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


def accept_request_id(incoming: str | None) -> str:
    """The caller's id when it is sane (≤ 64 of ``[A-Za-z0-9._-]``), else a new random one."""
    if incoming is not None and _VALID_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``record.request_id`` unless the caller set one; never drops a record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = _REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single line; values JSON cannot hold become strings."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _REQUEST_ID.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str | int = "info", *, fmt: LogFormat = "json", stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record to one stream handler on the root logger; for the app's entry.

    Idempotent: a handler installed by an earlier call is replaced. uvicorn's loggers lose
    their own handlers and propagate to the root, so its lines are structured too;
    ``uvicorn.access`` is quietened to warnings because :class:`RequestIdMiddleware`
    writes the access lines. Returns the handler (tests remove it again).
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return handler


class RequestIdMiddleware:
    """ASGI middleware: a request id in context and in the response, and an access line.

    The access line is written just before the last body message is sent (so a client
    that has its answer can find the line), or when the app returns or raises without one.
    It holds the method, path (no query string), route template, status and duration.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request under its id."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = _REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        logged = False

        def access_line() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            route = route_template(scope)
            logger.info(
                "%s %s %d",
                scope["method"],
                route,
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                headers[REQUEST_ID_HEADER] = request_id
                message = {**message, "headers": headers.raw}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                access_line()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_line()
            _REQUEST_ID.reset(token)
