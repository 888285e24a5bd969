"""Fixtures for the observability tests: an app on loopback, parsed metrics, captured logs."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tts_service.observability.logging import configure_logging


def scrape(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``GET /metrics``, parsed: (sample name, labels) → value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float | None:
    """One sample's value, or ``None`` when the series is absent."""
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def json_logs():
    """Configure logging as the app's entry does, into a buffer; restore it afterwards.

    Yields a function returning the JSON records written so far, plus the raw text.
    """
    root = logging.getLogger()
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved_root = (list(root.handlers), root.level)
    saved = {
        n: (
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).propagate,
            logging.getLogger(n).level,
        )
        for n in names
    }
    stream = io.StringIO()
    handler = configure_logging("info", stream=stream)

    def read() -> tuple[list[dict[str, object]], str]:
        text = stream.getvalue()
        return [json.loads(line) for line in text.splitlines()], text

    yield read
    root.removeHandler(handler)
    handler.close()
    root.handlers[:] = saved_root[0]
    root.setLevel(saved_root[1])
    for name, (handlers, propagate, level) in saved.items():
        target = logging.getLogger(name)
        target.handlers[:] = handlers
        target.propagate = propagate
        target.setLevel(level)
