"""Phrase lists of the article extractor, kept as text files beside this module.

Portal UI strings, slogan openers, byline openers and class names change more often
than the code that uses them, so they live here: UTF-8, NFC, one entry a line; blank
lines and lines starting with ``#`` are comments.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files

__all__ = ["load_lines"]


@cache
def load_lines(name: str) -> tuple[str, ...]:
    """Return the entries of ``data/<name>`` (e.g. ``"chrome_phrases.txt"``), read once."""
    text = files(__name__).joinpath(name).read_text(encoding="utf-8")
    text = unicodedata.normalize("NFC", text)
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
