"""Run a hostile input through the service's text stages and measure the work it takes.

Work is the CPU time of the calling thread (``time.thread_time``), which other processes
on a shared machine do not inflate; the best of a few runs removes the rest of the noise.
The garbage collector is paused while a run is timed: its full passes grow with the heap
and would bend the ratio of any stage that makes many small objects, linear or not.
The growth of a stage is the ratio of its work for ``4 n`` and for ``n``: about 4 when
it is linear, about 16 when it is quadratic.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from tts_service.errors import InputError
from tts_service.extract import extract_html, extract_plain
from tts_service.text.chunker import chunk_document
from tts_service.text.pipeline import normalize

__all__ = ["STAGES", "growth", "read_request", "size_for", "work"]

# gTTS's request limit, what the service chunks for.
_CHUNK_LIMIT = 100


def _read(text: str) -> None:
    chunk_document(normalize(text), _CHUNK_LIMIT)


def _plain(raw: str) -> None:
    try:
        extract_plain(raw)
    except InputError:
        pass


def _html(raw: str) -> None:
    try:
        extract_html(raw)
    except InputError:
        pass


STAGES: dict[str, Callable[[str], None]] = {"text": _read, "plain": _plain, "html": _html}
"""Where each kind of hostile input is aimed: the normaliser and chunker (``text``), or
one of the extractors, whose output is ordinary text for the normaliser."""


def read_request(kind: str, raw: str) -> None:
    """All a request pays for before synthesis: extraction (``plain``/``html``), then reading."""
    if kind == "text":
        _read(raw)
        return
    extract = extract_plain if kind == "plain" else extract_html
    try:
        article = extract(raw)
    except InputError:
        return
    _read(article.text)


def work(run: Callable[[str], None], raw: str, *, runs: int = 2) -> float:
    """The least CPU time, over ``runs`` runs, that ``run`` spends on ``raw``."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            start = time.thread_time()
            run(raw)
            best = min(best, time.thread_time() - start)
        finally:
            gc.enable()
    return best


def size_for(build: Callable[[int], str], chars: int) -> int:
    """The smallest power of two ``n`` for which ``build(n)`` has at least ``chars`` characters."""
    n = 1
    while len(build(n)) < chars:
        n *= 2
    return n


def growth(
    run: Callable[[str], None], build: Callable[[int], str], n: int, *, runs: int = 2
) -> float:
    """``work(4 n) / work(n)``: about 4 for a linear stage, 16 for a quadratic one."""
    small, large = build(n), build(4 * n)
    run(small)  # warm-up: models, compiled patterns, caches
    return work(run, large, runs=runs) / max(work(run, small, runs=runs), 1e-4)
