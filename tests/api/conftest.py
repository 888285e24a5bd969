"""The HTTP API tests use the ``serve`` fixture from tests/conftest.py."""
