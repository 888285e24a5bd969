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


def unavailable(reason: str) -> None:
    """Skip (or fail, when browser tests are required) with ``reason``."""
    message = f"browser tests skipped: {reason}"
    if REQUIRE_BROWSER:
        pytest.fail(message.replace("skipped", "required but cannot run"), pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session, with a fresh profile."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found — install Debian's chromium (see .ci/run)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is missing — pip install -e '.[dev]'")
    # Playwright gives every launch a new, empty user-data-dir of its own.
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, installed by ``npm ci`` in tests/browser."""
    if not AXE.exists():
        unavailable(f"{AXE.relative_to(HERE.parents[1])} not found — run npm ci in tests/browser")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def site(make_service):
    """The real app, with the player's router, on a loopback port; yields its base URL."""
    from tts_service.api.main import create_app
    from tts_service.api.routes import player
    from tts_service.engines.espeak import EspeakEngine

    service = make_service(EspeakEngine())
    app = create_app(service.settings, service=service)
    if not any(getattr(route, "path", None) == "/demo" for route in app.routes):
        app.include_router(player.router)
    with live_server(app) as base:
        yield base


@pytest.fixture
def context(browser):
    """A fresh browser context (own storage) per test; closes with the test."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 800}, locale="vi-VN")
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
