"""API docs that work offline: Swagger UI and ReDoc served from the service itself.

FastAPI's default ``/docs`` and ``/redoc`` pages load their JavaScript and CSS from a CDN,
so on a government intranet without internet they are blank pages. The assets come from
the ``fastapi-offline`` package (maintained, ships Swagger UI and ReDoc builds), so they are
installed and upgraded with the rest of the dependencies rather than copied into this repo.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_ASSET_PREFIX = "/docs-assets"
_TITLE = "Dịch vụ đọc bài viết tiếng Việt (Vietnamese read-aloud service)"


@cache
def _asset(name: str) -> bytes:
    """An asset's bytes, read once per process (about 2.8 MB for all four)."""
    return files("fastapi_offline").joinpath("static", name).read_bytes()


def _base(request: Request) -> str:
    """The app's own prefix behind a proxy (``root_path``), so the page's links resolve."""
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI, with "Try it out" on every endpoint."""
    base = _base(request)
    return get_swagger_ui_html(
        openapi_url=f"{base}{request.app.openapi_url}",
        title=f"{_TITLE} — Swagger UI",
        swagger_js_url=f"{base}{_ASSET_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{base}{_ASSET_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{base}{_ASSET_PREFIX}/favicon.png",
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc, the reference view of the same OpenAPI document."""
    base = _base(request)
    return get_redoc_html(
        openapi_url=f"{base}{request.app.openapi_url}",
        title=f"{_TITLE} — ReDoc",
        redoc_js_url=f"{base}{_ASSET_PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{base}{_ASSET_PREFIX}/favicon.png",
        with_google_fonts=False,
    )


@router.api_route(_ASSET_PREFIX + "/{name}", methods=["GET", "HEAD"])
def docs_asset(name: str) -> Response:
    """One of the docs pages' assets; they change only with the package, so cache a day."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "Không có tệp này (no such file).")
    return Response(
        _asset(name),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )
