"""Liveness and readiness probes for orchestrators and the Docker HEALTHCHECK."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tts_service.api.deps import ServiceDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(service: ServiceDep) -> JSONResponse:
    """The cache is writable and the engines are loaded."""
    checks = {
        "cache_writable": service.cache.writable(),
        "engines": list(service.engines),
    }
    ok = bool(checks["cache_writable"]) and bool(service.engines)
    return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, 200 if ok else 503)
