"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings

from tests.browser.fixtures import axe_source, browser  # noqa: F401 - fixtures
from tests.cache_db import backend, sqlite_backend  # noqa: F401 - fixtures
from tests.helpers import live_server
from tests.infra.postgres import postgres_server, postgres_url  # noqa: F401 - fixtures
from tests.infra.seaweed import s3_location, seaweed_server  # noqa: F401 - fixtures
from tts_service.api.main import create_app

SEED_ARTICLE = (
    Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "seed-article.txt"
)
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# No hypothesis deadline: it is a timing assertion (200 ms an example) that a busy machine,
# or mutmut's tracing, fails at random; slow code is measured in bench/ instead.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


def in_ci() -> bool:
    """Whether the suite runs in CI (``CI`` set, as ``.ci/run`` and CI services do)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ARG001 - pytest's hook signature
    """In CI a test that skips fails: what needs root, a browser or a server must run there.

    Elsewhere (a laptop without root or Chromium) it still skips, with its reason.
    """
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {reason}"


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Run every test without the caller's ``TTS_*`` settings, as httpx's ``clean_environ``."""
    from tts_service.settings import get_settings

    saved = {k: v for k, v in os.environ.items() if k.startswith("TTS_")}
    for key in saved:
        del os.environ[key]
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    for key in [k for k in os.environ if k.startswith("TTS_")]:
        del os.environ[key]
    os.environ.update(saved)


@pytest.fixture(params=["file", "s3"])
def stores(request):
    """Where a cache's audio goes: its directory, or SeaweedFS (tests/cache_stores.py)."""
    from tests.cache_stores import Stores

    if request.param == "file":
        return Stores("file")
    return Stores("s3", request.getfixturevalue("s3_location"))


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The seed article, from ``../shared`` when present, else the copy in tests/fixtures."""
    path = SEED_ARTICLE if SEED_ARTICLE.exists() else FIXTURES / "seed-article.txt"
    return path.read_text(encoding="utf-8")


@pytest.fixture
def make_service(tmp_path):
    """Build a SpeechService on a temporary cache with the given engines (fakes or real)."""
    from tts_service.cache import AudioCache
    from tts_service.settings import Settings
    from tts_service.synthesis import SpeechService

    services = []

    def build(*engines, fetcher=None, **overrides):
        settings = Settings(
            cache_dir=tmp_path / "cache",
            engine=("espeak",),
            sentence_pause_ms=240,
            paragraph_pause_ms=480,
            **overrides,
        )
        cache = AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes)
        extra = {"fetcher": fetcher} if fetcher is not None else {}
        service = SpeechService(
            settings, engines={e.name: e for e in engines}, cache=cache, **extra
        )
        services.append(service)
        return service

    yield build
    for service in services:
        service.close()


@pytest.fixture
def serve():
    """Serve a SpeechService over real HTTP on loopback; yields an httpx client factory."""
    stack = []

    def start(service, settings=None):
        app = create_app(settings or service.settings, service=service)
        ctx = live_server(app)
        base = ctx.__enter__()
        client = httpx.Client(base_url=base, timeout=60)
        stack.append((ctx, client))
        return client

    yield start
    for ctx, client in reversed(stack):
        client.close()
        ctx.__exit__(None, None, None)
