"""The one audio format every article is assembled in.

Google's voice answers with MPEG-2 Layer III, 24 kHz, mono, 32 kbps CBR. Choosing that as
the house format means gTTS parts are concatenated byte for byte, never re-encoded; the
offline voice is encoded straight into it, and silence is made of frames of it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HOUSE_FORMAT", "AudioFormat"]


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """An MP3 stream's parameters: sample rate, channels, constant bit rate."""

    sample_rate: int
    channels: int
    bitrate_kbps: int
    codec: str = "mp3"

    @property
    def samples_per_frame(self) -> int:
        """Samples in one Layer III frame: 1152 for MPEG-1, 576 for MPEG-2/2.5."""
        return 1152 if self.sample_rate >= 32000 else 576

    @property
    def frame_seconds(self) -> float:
        """Duration of one frame, e.g. 576 / 24000 = 0.024 s."""
        return self.samples_per_frame / self.sample_rate


HOUSE_FORMAT = AudioFormat(sample_rate=24000, channels=1, bitrate_kbps=32)
