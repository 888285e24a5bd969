"""Encode PCM into the house MP3 format with LAME, and make house-format silence.

Only this module and nothing else drives ``lameenc``. Its output is bare audio frames (LAME
writes no info frame through lameenc, and :func:`~tts_service.audio.mp3.audio_frames` would
strip one if it did), so the result can be concatenated with other house-format parts.

Timing: LAME delays the signal by :data:`LAME_DELAY_SAMPLES` (576 encoder + 529 decoder
samples, ~46 ms at 24 kHz) and pads the end to a whole frame, and without an info frame no
decoder trims either. So ``n`` output-rate samples come back as
``ceil((n + LAME_DELAY_SAMPLES) / 576)`` frames, or one more (measured over input rates
8–48 kHz and lengths from 1 sample to 10 s).
"""

from __future__ import annotations

import logging
from functools import lru_cache

import lameenc

from tts_service.audio import mp3
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.errors import AudioFormatError

__all__ = ["DEFAULT_QUALITY", "LAME_DELAY_SAMPLES", "encode_pcm", "silence"]

logger = logging.getLogger(__name__)

DEFAULT_QUALITY = 2
"""LAME's ``-q 2``, its "recommended high quality"; 7 is about twice as fast (see espeak)."""

LAME_DELAY_SAMPLES = 1105
"""Samples of leading silence LAME adds: 576 encoder delay + 529 decoder delay."""


def encode_pcm(pcm: bytes, sample_rate: int, *, quality: int = DEFAULT_QUALITY) -> bytes:
    """Encode 16-bit signed little-endian mono ``pcm`` at ``sample_rate`` into house MP3 frames.

    LAME resamples to 24 kHz itself. Empty ``pcm`` still yields LAME's two or three frames
    of silence. Raises :class:`ValueError` for impossible arguments and
    :class:`AudioFormatError` if LAME fails or its output is not in the house format.
    """
    if len(pcm) % 2:
        raise ValueError(f"16-bit PCM has an even byte count, got {len(pcm)} bytes")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    if not 0 <= quality <= 9:
        raise ValueError(f"LAME quality runs from 0 (best) to 9 (fastest), got {quality}")
    try:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(HOUSE_FORMAT.bitrate_kbps)
        encoder.set_in_sample_rate(sample_rate)
        encoder.set_out_sample_rate(HOUSE_FORMAT.sample_rate)
        encoder.set_channels(HOUSE_FORMAT.channels)
        encoder.set_quality(quality)
        encoded = bytes(encoder.encode(pcm)) + bytes(encoder.flush())
    except (RuntimeError, ValueError) as exc:
        raise AudioFormatError(f"LAME could not encode {sample_rate} Hz PCM: {exc}") from exc
    stream = mp3.parse(encoded, strict=True)
    if not stream.is_format(HOUSE_FORMAT):
        raise AudioFormatError(
            f"LAME produced {stream.format}, not the house format {HOUSE_FORMAT}"
        )
    return stream.audio


def silence(seconds: float) -> bytes:
    """Return house-format frames of digital silence, ``round(seconds / 0.024)`` of them.

    The bytes are cached per frame count, so pauses cost nothing after their first use.
    """
    if seconds < 0:
        raise ValueError(f"silence cannot last {seconds} s")
    return _silence_frames(round(seconds / HOUSE_FORMAT.frame_seconds))


@lru_cache(maxsize=64)
def _silence_frames(count: int) -> bytes:
    """Return exactly ``count`` house-format frames that decode to zeros.

    LAME's bit reservoir lets a frame borrow bytes from earlier frames, never later ones,
    and its first frame borrows nothing; so the first ``count`` frames of an encoded run of
    zeros are a complete, independently decodable stream that can be cut anywhere after.
    """
    if count == 0:
        return b""
    samples = count * HOUSE_FORMAT.samples_per_frame
    frames = encode_pcm(bytes(2 * samples), HOUSE_FORMAT.sample_rate)
    stream = mp3.parse(frames, strict=True)
    if len(stream) < count:
        raise AudioFormatError(f"LAME made {len(stream)} frames of silence, wanted {count}")
    kept = stream.frames[count - 1]
    logger.debug("made %d frames of silence", count)
    return frames[: kept.end]
