"""A unit-level harness that applies numeric rules to text as the pipeline will.

Rules run in priority order (lower first); a match overlapping a span an earlier rule
claimed is skipped; ``verbalize`` may decline with ``None``; each reading replaces its
span in place. This mirrors ``tts_service.text.pipeline`` for the numeric rules alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from tts_service.text.rules.base import Rule

Apply = Callable[[str], str]


def apply_rules(text: str, rules: Iterable[Rule]) -> str:
    """Replace every claimed expression in ``text`` by its reading."""
    claimed: list[tuple[int, int, str]] = []
    for rule in sorted(rules, key=lambda r: r.priority):
        for match in rule.pattern.finditer(text):
            start, end = match.span()
            if start == end or any(start < e and s < end for s, e, _ in claimed):
                continue
            reading = rule.verbalize(match)
            if reading is not None:
                claimed.append((start, end, reading))
    pieces: list[str] = []
    position = 0
    for start, end, reading in sorted(claimed):
        # A reading is a unit of its own, as in the pipeline: "đồng" + "/kg" → "đồng một kg"
        glued = start > 0 and (text[start - 1].isalnum() or (start == position and bool(pieces)))
        glued = glued and not text[start - 1].isspace()
        pieces += [text[position:start], " " + reading if glued else reading]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


@pytest.fixture(scope="session")
def normalize() -> Apply:
    """Apply all numeric rules to a string."""
    from tts_service.text.rules.numeric import RULES

    return lambda text: apply_rules(text, RULES)
