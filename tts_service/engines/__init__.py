"""Speech engines behind one small interface; the concrete engines load lazily by name."""

from __future__ import annotations

from tts_service.engines.base import SpeechEngine

__all__ = ["SpeechEngine"]
