"""Every public module declares ``__all__``, and every name it lists exists."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import tts_service

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(tts_service.__path__, prefix="tts_service.")
    if not info.name.rsplit(".", 1)[-1].startswith("_")
    and info.name not in {"tts_service.__main__"}
)


@pytest.mark.parametrize("name", MODULES)
def test_module_declares_its_public_surface(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [member for member in exported if not hasattr(module, member)]
    assert not missing, f"{name}.__all__ lists missing names: {missing}"


def test_package_reexports_are_the_real_objects():
    from tts_service.engines.base import SpeechEngine
    from tts_service.settings import Settings

    assert tts_service.SpeechEngine is SpeechEngine
    assert tts_service.Settings is Settings
    assert set(tts_service.__all__) <= set(dir(tts_service))


def test_test_doubles_are_not_on_the_production_surface():
    # The fakes ship in tts_service.testing only; the service never imports that package.
    from tts_service.testing import FakeEngine

    assert "FakeEngine" not in tts_service.__all__ and not hasattr(tts_service, "FakeEngine")
    assert FakeEngine.__module__ == "tts_service.testing.engine"
    production = [
        name
        for name in MODULES
        if not name.startswith("tts_service.testing")
        and "FakeEngine" in vars(importlib.import_module(name))
    ]
    assert production == []
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tts_service.api.main, tts_service.cli, tts_service.batch;"
            "print(sorted(m for m in sys.modules if m.startswith('tts_service.testing')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
