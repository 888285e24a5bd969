"""Browser tests: the real app on loopback, the real eSpeak voice, Debian's Chromium.

They skip with a clear reason when Chromium, the ``playwright`` package or axe-core is
missing (see ``scripts/install-browser-deps.sh``), and fail instead when the environment
asks for them: ``TTS_REQUIRE_BROWSER=1`` (read here at import time, before the suite's
autouse fixture clears ``TTS_*`` variables), its alias ``REQUIRE_BROWSER_TESTS=1``, or
``CI`` (where any skip fails, tests/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import live_server

REQUIRE_BROWSER = "1" in (
    os.environ.get("TTS_REQUIRE_BROWSER", ""),
    os.environ.get("REQUIRE_BROWSER_TESTS", ""),
) or os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The player starts audio from the listener's click; headless has no real gesture.
    "--autoplay-policy=no-user-gesture-required",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "axe: the test runs axe-core in its page (CSP bypassed)")


def unavailable(reason: str) -> None:
    """Skip (or fail, when browser tests are required) with ``reason``."""
    message = f"browser tests skipped: {reason}"
    if REQUIRE_BROWSER:
        pytest.fail(message.replace("skipped", "required but cannot run"), pytrace=False)
    pytest.skip(message)


@pytest.fixture
def _portal():
    """A portal on another origin (``http://localhost:<port>``, the service being on
    127.0.0.1): serves tests/browser/pages/<name> with ``{{SITE}}`` set to the service's URL.
    Both are loopback, so Chromium's private-network checks do not interfere."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI()
    app.state.site = ""

    @app.get("/tin-tuc/{name}")
    def page(name: str) -> HTMLResponse:
        path = HERE / "pages" / name
        if path.parent != HERE / "pages" or not path.is_file():
            return HTMLResponse("not found", status_code=404)
        html = path.read_text(encoding="utf-8").replace("{{SITE}}", app.state.site)
        return HTMLResponse(html)

    with live_server(app) as base:
        yield app, base.replace("127.0.0.1", "localhost")


@pytest.fixture
def site(make_service, _portal):
    """The real app, with the player's router, on a loopback port; yields its base URL."""
    from tts_service.api.main import create_app
    from tts_service.api.routes import player
    from tts_service.engines.espeak import EspeakEngine

    portal_app, portal_base = _portal
    # Chunks of at most 100 characters, as Google takes them: sentences read in phrases.
    service = make_service(EspeakEngine(max_chars=100), cors_origins=(portal_base,))
    app = create_app(service.settings, service=service)
    if not any(getattr(route, "path", None) == "/demo" for route in app.routes):
        app.include_router(player.router)
    with live_server(app) as base:
        portal_app.state.site = base
        yield base


@pytest.fixture
def portal(site, _portal):
    """``portal(name)`` is the URL of tests/browser/pages/``name`` on the portal's origin;
    its pages load the player from ``site``."""
    app, base = _portal
    assert app.state.site == site
    return lambda name: f"{base}/tin-tuc/{name}"


@pytest.fixture
def context(browser, request):
    """A fresh browser context (own storage) per test; closes with the test. Tests marked
    ``axe`` bypass the page's CSP: axe-core injects styles, which the demo's CSP forbids."""
    ctx = browser.new_context(
        viewport={"width": 1100, "height": 800},
        locale="vi-VN",
        bypass_csp=request.node.get_closest_marker("axe") is not None,
    )
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A page that fails the test on uncaught script errors and CSP violations."""
    problems: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    pg.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if msg.type == "error" and "favicon" not in msg.text and "Content Security" in msg.text
            else None
        ),
    )
    yield pg
    assert not problems, problems
