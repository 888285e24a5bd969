"""Test doubles that ship with the package, as ``httpx.MockTransport`` ships with httpx.

:class:`FakeGoogle` serves Google Translate's speech endpoint on loopback, so the gTTS
engine (and gTTS itself) can be tested and benchmarked offline over real HTTP.
"""

from __future__ import annotations

from tts_service.testing.fake_google import (
    BATCHEXECUTE_PATH,
    FakeGoogle,
    FaultPlan,
    ReceivedRequest,
    fake_speech,
)

__all__ = ["BATCHEXECUTE_PATH", "FakeGoogle", "FaultPlan", "ReceivedRequest", "fake_speech"]
