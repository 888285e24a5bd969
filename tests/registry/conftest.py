"""Fixtures for the registry tests: a served service with CMS keys and a counting engine."""

from __future__ import annotations

import pytest

from tests.registry.cms import KEYS, CountingEngine


@pytest.fixture
def engine() -> CountingEngine:
    """A fake engine that counts the texts it is asked for."""
    return CountingEngine()


@pytest.fixture
def cms(serve, make_service, engine):
    """An HTTP client to a service with two CMS keys and an admin key, and the service."""
    service = make_service(engine, api_keys=KEYS, page_size=2)
    client = serve(service)
    return client, service
