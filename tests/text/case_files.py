"""Read the normaliser's case files: ``tests/text/data/test_cases_<kind>.txt``.

One case per line, ``written~reading~another accepted reading…``; blank lines and lines
starting with ``#`` are comments. An empty reading (``* * *~``) means nothing is said.
Lines are read as NFC, so decomposed input is tested in ``test_clean.py`` instead.
Every engineer's case files share this format, so one parametrised test
(``test_cases.py``) runs them all through the whole pipeline.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DATA",
    "Case",
    "KnownFailure",
    "case_files",
    "parse_known_failures",
    "parse_test_case_file",
]

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Case:
    """One line of a case file: the written text and every accepted reading."""

    written: str
    readings: tuple[str, ...]
    kind: str
    line: int

    @property
    def id(self) -> str:
        """``kind:line``, the pytest id, so a failure names the file line to look at."""
        return f"{self.kind}:{self.line}"


@dataclass(frozen=True)
class KnownFailure:
    """A case the normaliser is known to read wrongly: the right readings, what it says now."""

    case: Case
    said: str


def parse_known_failures(path: Path) -> list[KnownFailure]:
    """Parse ``known_failures_<kind>.txt``: ``written~correct…~what is said now``.

    The last field pins the current (wrong) reading, so that a case getting worse fails
    as surely as one getting right; the fields before it are the accepted readings.
    """
    failures = []
    for case in parse_test_case_file(path):
        if len(case.readings) < 2:
            raise ValueError(f"{path.name}:{case.line}: expected 'written~correct~said now'")
        correct = Case(case.written, case.readings[:-1], case.kind, case.line)
        failures.append(KnownFailure(correct, case.readings[-1]))
    return failures


def case_files() -> list[Path]:
    """Every ``test_cases_<kind>.txt`` in ``tests/text/data``, sorted by name."""
    return sorted(DATA.glob("test_cases_*.txt"))


def parse_test_case_file(path: Path) -> list[Case]:
    """Parse one case file; a line without ``~`` raises ``ValueError`` naming the line."""
    kind = path.stem.removeprefix("test_cases_")
    cases = []
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        written, *readings = line.split("~")
        if not readings:
            raise ValueError(f"{path.name}:{number}: expected 'written~reading', got {line!r}")
        cases.append(Case(written, tuple(readings), kind, number))
    return cases
