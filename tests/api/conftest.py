from __future__ import annotations

import httpx
import pytest

from tests.helpers import live_server
from tts_service.api.main import create_app


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
