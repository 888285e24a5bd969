"""What a normaliser rule is: a pattern that finds one kind of expression, and its reading.

The pipeline runs rules in ``priority`` order (lower first) over each sentence. A match
whose span overlaps text an earlier rule already claimed is skipped, so a legal code
(``15/2021/NĐ-CP``) claimed first is never re-read as a date. ``verbalize`` may return
``None`` to decline a match (e.g. "I" in English text is not a Roman numeral), leaving
the text to later rules. The returned reading becomes one unit the chunker never cuts.

``needs`` is a cheap filter: characters of which at least one must be in the sentence
for the pattern to have a chance (digits for every numeric rule, "@" for e-mail), so
the pipeline can skip the scan of a sentence without any. Empty means always scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ASCII_DIGITS", "Rule"]

#: The ASCII digits, what every numeric rule ``needs``.
ASCII_DIGITS: frozenset[str] = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class Rule:
    """A named pattern and the function that reads its matches aloud."""

    name: str
    pattern: re.Pattern[str]
    verbalize: Callable[[re.Match[str]], str | None]
    priority: int = 100
    needs: frozenset[str] = frozenset()
