"""Every public module declares ``__all__``, and every name it lists exists."""

from __future__ import annotations

import importlib
import pkgutil

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
    from tts_service.engines.base import FakeEngine
    from tts_service.settings import Settings

    assert tts_service.FakeEngine is FakeEngine
    assert tts_service.Settings is Settings
    assert set(tts_service.__all__) <= set(dir(tts_service))
