"""Fixtures for the console tests: the real app on loopback with three keys."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from tests.console.support import Editor
from tests.registry.cms import KEYS, CountingEngine


class GatedEngine(CountingEngine):
    """The counting fake, which holds every text while its ``gate`` is closed: a test sees
    a reading in progress, then opens the gate to let it end."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:
        # Bounded: a test that forgets to open the gate fails instead of hanging.
        if not self.gate.wait(timeout=60):
            raise TimeoutError("the test never opened the engine's gate")
        return super().synthesize(text, voice=voice)


@pytest.fixture
def engine() -> GatedEngine:
    """A fake engine (thread-safe, counting, gated): registry workers read with it."""
    return GatedEngine()


@pytest.fixture
def site(serve, make_service, engine):
    """A served service with the cms, other and admin keys; yields its client and service."""
    # One try per job: a failing article fails at once, without backoff waits.
    service = make_service(engine, api_keys=KEYS, page_size=3, job_attempts=1)
    client = serve(service)
    return client, service


@pytest.fixture
def browsers(site):
    """``browsers()`` opens a new editor's browser on the site (closed after the test)."""
    client, _ = site
    opened = []

    def open_one() -> Editor:
        editor = Editor(str(client.base_url))
        opened.append(editor)
        return editor

    yield open_one
    for editor in opened:
        editor.close()


@pytest.fixture
def registry_db(site):
    """``registry_db(sql, args)`` runs one statement on the registry's file, as another
    process (an operator) would, and returns its rows."""
    _, service = site

    def run(sql: str, args: tuple = ()) -> list[tuple]:
        db = sqlite3.connect(service.settings.registry_file)
        try:
            with db:
                return db.execute(sql, args).fetchall()
        finally:
            db.close()

    return run
