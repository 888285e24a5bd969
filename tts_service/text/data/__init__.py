"""Lexicons of the normaliser, kept as TSV files beside this module.

Data is separated from rules (as gTTS keeps ``symbols.py`` apart from its steps): a
reading such as ``km → ki lô mét`` lives in ``measure/unit.tsv``, not in code. Every
file is UTF-8, NFC, one entry a line, columns separated by a tab; blank lines and lines
starting with ``#`` are comments.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files

__all__ = ["load_map", "load_tsv"]


@cache
def _read_rows(relative_path: str) -> tuple[tuple[str, ...], ...]:
    """Parse one TSV file once; later calls are served from the cache."""
    resource = files(__name__).joinpath(*relative_path.split("/"))
    text = unicodedata.normalize("NFC", resource.read_text(encoding="utf-8"))
    rows: list[tuple[str, ...]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rows.append(tuple(field.strip() for field in line.split("\t")))
    return tuple(rows)


def load_tsv(relative_path: str) -> list[list[str]]:
    """Return the rows of ``data/<relative_path>`` (e.g. ``"numbers/digit.tsv"``) as lists.

    The file is read and parsed once per process; each call gets fresh lists, so a
    caller may mutate its copy without corrupting the cache.
    """
    return [list(row) for row in _read_rows(relative_path)]


def load_map(relative_path: str) -> dict[str, str]:
    """The first two columns of a TSV as a dict, e.g. ``"legal/issuers.tsv"``: code → reading."""
    return {row[0]: row[1] for row in _read_rows(relative_path)}
