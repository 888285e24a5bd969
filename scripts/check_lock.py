"""Check that requirements/*.lock were made from pyproject.toml as it is now.

Each lock file's second line records a digest of the dependency lists it was resolved
from; a change to pyproject.toml without ``scripts/lock.sh`` fails here. Every direct
requirement must also be pinned in the lock at a version its specifier accepts (a hand
edit of the lock fails too). Re-resolving in CI would instead fail whenever PyPI
publishes a release, so the check is offline and deterministic.

``--stamp`` prints the digest for scripts/lock.sh.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"prod": (), "dev": ("dev",)}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def stamp() -> str:
    """A digest of the dependency lists (the only part of pyproject.toml a lock depends on)."""
    project = _project()
    lists = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    return hashlib.sha256(json.dumps(lists, sort_keys=True).encode()).hexdigest()[:32]


def _pins(text: str) -> dict[str, Version]:
    pins = {}
    for match in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.MULTILINE):
        pins[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pins


def check() -> list[str]:
    problems = []
    project = _project()
    expected = stamp()
    for name, extras in LOCKS.items():
        path = ROOT / "requirements" / f"{name}.lock"
        if not path.exists():
            problems.append(f"{path.relative_to(ROOT)} is missing: run scripts/lock.sh")
            continue
        text = path.read_text(encoding="utf-8")
        if f"# pyproject-dependencies: {expected}" not in text.splitlines()[:3]:
            problems.append(
                f"{path.relative_to(ROOT)} was not made from this pyproject.toml: "
                "run scripts/lock.sh"
            )
        pins = _pins(text)
        wanted = list(project["dependencies"])
        for extra in extras:
            wanted += project["optional-dependencies"][extra]
        for line in wanted:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(
                {"python_version": "3.11", "python_full_version": "3.11.0"}
            ):
                continue
            pinned = pins.get(canonicalize_name(requirement.name))
            if pinned is None:
                problems.append(f"{path.name}: {requirement.name} is not pinned")
            elif not requirement.specifier.contains(pinned, prereleases=True):
                problems.append(f"{path.name}: {requirement.name}=={pinned} breaks {line!r}")
    return problems


def main() -> int:
    if sys.argv[1:] == ["--stamp"]:
        print(stamp())  # noqa: T201
        return 0
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
