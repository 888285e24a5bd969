"""MP3 frames, encoding, tags, timings and assembly in the one house format."""

from __future__ import annotations

from tts_service.audio.format import HOUSE_FORMAT, AudioFormat
from tts_service.audio.mp3 import audio_frames, duration_seconds, parse_frames, stream_format

__all__ = [
    "HOUSE_FORMAT",
    "AudioFormat",
    "audio_frames",
    "duration_seconds",
    "parse_frames",
    "stream_format",
]
