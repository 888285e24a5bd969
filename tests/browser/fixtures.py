"""The browser and axe-core, one of each for the whole session.

Defined here, not in tests/browser/conftest.py, and made fixtures of the whole suite by
tests/conftest.py: the console's browser tests use them too, and a second definition would
start a second Playwright in the same thread, which Playwright's sync API refuses ("Sync
API inside the asyncio loop").
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import AXE, CHROMIUM, CHROMIUM_ARGS, HERE, unavailable

__all__ = ["axe_source", "browser"]


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
