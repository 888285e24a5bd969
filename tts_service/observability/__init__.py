"""Observability: Prometheus metrics and structured, request-scoped logs.

* :mod:`~tts_service.observability.metrics` — :class:`ServiceMetrics` on a registry each
  service owns, and the HTTP middleware that counts requests by route template.
* :mod:`~tts_service.observability.logging` — JSON log lines, :func:`configure_logging`
  (called by the app's lifespan, nowhere else) and the ``X-Request-ID`` middleware.
"""

from __future__ import annotations

from tts_service.observability.logging import (
    JsonFormatter,
    RequestIdFilter,
    RequestIdMiddleware,
    accept_request_id,
    bind_request_id,
    configure_logging,
    current_request_id,
)
from tts_service.observability.metrics import (
    HTTPMetricsMiddleware,
    ServiceMetrics,
    breaker_state,
)

__all__ = [
    "HTTPMetricsMiddleware",
    "JsonFormatter",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "ServiceMetrics",
    "accept_request_id",
    "bind_request_id",
    "breaker_state",
    "configure_logging",
    "current_request_id",
]
