"""Run the numeric case files (tests/text/data/test_cases_<kind>.txt) through the numeric rules.

The full pipeline runs the same files through ``normalize_line`` (``tests/text/test_cases.py``);
this test checks the numeric rules alone with the local harness in ``conftest.py``, so a
failure here points at a numeric rule rather than at the pipeline or another module.
"""

from __future__ import annotations

import pytest

from tests.text.case_files import DATA, Case, parse_test_case_file
from tests.text.rules.conftest import Apply

KINDS = ("cardinal", "ordinal", "fraction", "date", "time", "ranges", "money", "measure", "phone")
CASES = [case for kind in KINDS for case in parse_test_case_file(DATA / f"test_cases_{kind}.txt")]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_file(normalize: Apply, case: Case) -> None:
    spoken = normalize(case.written)
    assert spoken in case.readings, (
        f"{case.written!r}\n  said:     {spoken!r}\n  expected: {case.readings[0]!r}"
    )


def test_case_files_are_large_enough() -> None:
    assert len(CASES) >= 300
