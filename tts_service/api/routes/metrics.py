"""Prometheus scrapes the service's metrics here."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tts_service.observability.metrics import CONTENT_TYPE, ServiceMetrics

__all__ = ["router"]

router = APIRouter(tags=["observability"])


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """The service's metrics in the Prometheus text format."""
    # A sync route: the scrape reads the cache's SQLite index, off the event loop.
    service_metrics: ServiceMetrics = request.app.state.metrics
    return Response(service_metrics.render(), media_type=CONTENT_TYPE)
