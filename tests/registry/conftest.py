"""Fixtures for the registry tests: a served service with CMS keys and a counting engine."""

from __future__ import annotations

import pytest

from tests.registry.cms import KEY, OTHER, CountingEngine


@pytest.fixture
def engine() -> CountingEngine:
    """A fake engine that counts the texts it is asked for."""
    return CountingEngine()


@pytest.fixture
def cms(serve, make_service, engine):
    """An HTTP client to a service with one CMS key, and the service itself."""
    service = make_service(
        engine,
        api_keys=[{"name": "cms", "key": KEY}, {"name": "other", "key": OTHER}],
        page_size=2,
    )
    client = serve(service)
    return client, service
