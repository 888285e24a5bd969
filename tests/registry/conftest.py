"""Fixtures for the registry tests: both databases, a served service, a counting engine.

Every test that opens a registry — through ``make_service`` (``cms`` and the like) or
``store_url`` — runs twice: on a SQLite file and on a fresh PostgreSQL database
(``TTS_DATABASE_URL``). A test marked ``sqlite_only`` or ``postgresql_only`` says why
it is about one of them.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.registry.cms import KEYS, CountingEngine

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): a registry test about the SQLite file itself"
    )
    config.addinivalue_line(
        "markers", "postgresql_only(reason): a registry test about a database server"
    )


def pytest_generate_tests(metafunc):
    """Run each registry test that opens a database on both backends."""
    if not {"make_service", "store_url"} & set(metafunc.fixturenames):
        return
    backends = BACKENDS
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        backends = ("sqlite",)
    if metafunc.definition.get_closest_marker("postgresql_only") is not None:
        backends = ("postgresql",)
    metafunc.parametrize("registry_url", backends, indirect=True)


@pytest.fixture(autouse=True)
def registry_url(request, tmp_path, monkeypatch) -> str:
    """The registry's database URL for this test; PostgreSQL is also the service's.

    SQLite: the default file of a service on ``tmp_path / "cache"``. PostgreSQL: a fresh
    database, given to every service the test builds through ``TTS_DATABASE_URL``.
    """
    if getattr(request, "param", "sqlite") == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
        monkeypatch.setenv("TTS_DATABASE_URL", url)
        return url
    return f"sqlite:///{tmp_path / 'cache' / 'registry.sqlite3'}"


@pytest.fixture
def store_url(registry_url) -> str:
    """The database URL a test opens a registry store on (both backends)."""
    return registry_url


@pytest.fixture
def raw_db(registry_url):
    """An engine of the test's own on the registry's database (SQLAlchemy, no set-up)."""
    engine = sa.create_engine(registry_url.replace("postgresql://", "postgresql+psycopg://"))
    yield engine
    engine.dispose()


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
