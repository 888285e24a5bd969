"""Vietnamese read-aloud service: article in, cached and streamable MP3 with timings out."""

from __future__ import annotations

__version__ = "0.1.0"

from tts_service.audio.format import HOUSE_FORMAT, AudioFormat
from tts_service.engines.base import SpeechEngine
from tts_service.errors import (
    AudioFormatError,
    CacheError,
    EmptyTextError,
    InputError,
    SynthesisError,
    SynthesisRejected,
    SynthesisUnavailable,
    TextTooLongError,
    TTSError,
    UnknownEngineError,
)
from tts_service.settings import Settings, get_settings

__all__ = [
    "HOUSE_FORMAT",
    "AudioFormat",
    "AudioFormatError",
    "CacheError",
    "EmptyTextError",
    "InputError",
    "Settings",
    "SpeechEngine",
    "SynthesisError",
    "SynthesisRejected",
    "SynthesisUnavailable",
    "TTSError",
    "TextTooLongError",
    "UnknownEngineError",
    "__version__",
    "get_settings",
]
