"""The numeric rules, read through the real pipeline (``Normalizer``) with no other rule.
A failure points at a numeric rule rather than at an abbreviation or a
code, and the rule loop (its retry, its ``needs`` filter, its clean-up) is the product's.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tts_service.text.pipeline import Normalizer
from tts_service.text.rules import numeric

Read = Callable[[str], str]


@pytest.fixture(scope="session")
def numeric_normalizer() -> Normalizer:
    """The pipeline with the numeric rules alone."""
    return Normalizer(rules=numeric.RULES)


@pytest.fixture(scope="session")
def read_numbers(numeric_normalizer: Normalizer) -> Read:
    """What the numeric rules alone make of a line: its sentences' spoken text."""
    return lambda text: " ".join(s.spoken for s in numeric_normalizer.normalize(text).sentences)
