"""Run the numeric case files (tests/text/data/test_cases_<kind>.txt) through the numeric rules.

The full pipeline runs the same files through ``normalize_line`` (``tests/text/test_cases.py``);
this test runs the real pipeline with the numeric rules alone (``conftest.py``), so a
failure here points at a numeric rule rather than at another module.
"""

from __future__ import annotations

import pytest

from tests.text.case_files import DATA, Case, parse_test_case_file
from tests.text.rules.conftest import Read

KINDS = ("cardinal", "ordinal", "fraction", "date", "time", "ranges", "money", "measure", "phone")
CASES = [case for kind in KINDS for case in parse_test_case_file(DATA / f"test_cases_{kind}.txt")]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_file(read_numbers: Read, case: Case) -> None:
    spoken = read_numbers(case.written)
    assert spoken in case.readings, (
        f"{case.written!r}\n  said:     {spoken!r}\n  expected: {case.readings[0]!r}"
    )


def test_case_files_hold_the_numeric_cases() -> None:
    # 379 when this was written; the files only grow, so losing lines (a file no longer
    # found, a kind renamed) fails here.
    assert len(CASES) >= 379
