"""Test doubles that ship with the package, as ``httpx.MockTransport`` ships with httpx.

Nothing in the service imports this package: it is for tests and benches only.
:class:`FakeEngine` reads with a function of the text; :class:`FakeGoogle` serves Google
Translate's speech endpoint on loopback, so the gTTS engine (and gTTS itself) can be
tested and benchmarked offline over real HTTP.
"""

from __future__ import annotations

from tts_service.testing.engine import FakeEngine
from tts_service.testing.fake_google import (
    BATCHEXECUTE_PATH,
    FakeGoogle,
    FaultPlan,
    ReceivedRequest,
    fake_speech,
)

__all__ = [
    "BATCHEXECUTE_PATH",
    "FakeEngine",
    "FakeGoogle",
    "FaultPlan",
    "ReceivedRequest",
    "fake_speech",
]
