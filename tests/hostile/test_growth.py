"""Every hostile input of :mod:`.inputs` costs work linear in its size.

The work for ``4 n`` is compared with the work for ``n`` in the same test: linear gives
about 4, quadratic 16, and the backtracking that froze the server (a dateline regex
doubling its work with each repeated "cập nhật lúc ") far more. ``n`` is chosen per case
so the smaller input has about :data:`CHARS` characters, which keeps the sweep fast;
the known quadratic paths are tested at larger sizes, one component at a time, in
``test_regressions.py``, and absolute times are in ``bench/bench_hostile.py``.
"""

from __future__ import annotations

import os

import pytest

from tests.hostile.inputs import CLASSES, all_cases, data_files, extract_phrases
from tests.hostile.work import STAGES, growth, size_for

# Characters of the smaller input of each pair.
CHARS = 600
# Linear work gives about 4; the bound leaves room for a loaded machine and caches.
MAX_GROWTH = 10.0

CASES = all_cases()
# Every run checks the named shapes and the dateline openers (114 cases, about a minute);
# HOSTILE_SWEEP=1 checks all ~750 cases (every phrase, symbol and context word), which
# takes 5 minutes on a quiet machine and three times that on a shared one.
SWEEP = (
    CASES
    if os.environ.get("HOSTILE_SWEEP")
    else [case for name in ("shapes", "datelines") for case in CLASSES[name]()]
)


@pytest.mark.parametrize("case", SWEEP, ids=str)
def test_work_grows_linearly(case) -> None:
    n = size_for(case.build, CHARS)
    ratio = growth(STAGES[case.stage], case.build, n)
    if ratio >= MAX_GROWTH:
        # One retry: a single slow run on a shared machine is not a quadratic stage.
        ratio = min(ratio, growth(STAGES[case.stage], case.build, n, runs=3))
    assert ratio < MAX_GROWTH, f"{case}: work for 4n is {ratio:.1f}× the work for n"


def test_every_phrase_file_is_attacked() -> None:
    attacked = {file for file, _ in extract_phrases()}
    assert attacked == set(data_files())


def test_every_phrase_is_attacked() -> None:
    names = {str(case) for case in CASES}
    for file, phrase in extract_phrases():
        tag = f"{file.removesuffix('.txt')}:{phrase.encode('unicode_escape').decode('ascii')}"
        assert f"plain:{tag}:line" in names
        assert f"html:{tag}:paragraph" in names
