"""Hand-built MP3 frames and small PCM signals for the audio tests.

The frames carry a real header and zero side info and main data, which decoders play as
silence; the parser only cares about the headers, so these pin its arithmetic down exactly.
"""

from __future__ import annotations

import array
import math

import lameenc

# MPEG-1 Layer III, no CRC, 128 kbps, 44.1 kHz, stereo (channel mode 00).
MPEG1_128K_44K = 0xFFFB9000
# MPEG-2 Layer III, no CRC, 32 kbps, 24 kHz, mono: the house format's header.
MPEG2_32K_24K_MONO = 0xFFF344C4
PADDING_BIT = 0x200


def frame_length(header: int) -> int:
    """Layer III frame length for the headers used in these tests."""
    if header & ~PADDING_BIT == MPEG1_128K_44K:
        return 144 * 128_000 // 44_100 + bool(header & PADDING_BIT)
    if header & ~PADDING_BIT == MPEG2_32K_24K_MONO:
        return 72 * 32_000 // 24_000 + bool(header & PADDING_BIT)
    raise ValueError(hex(header))


def frame(header: int, *, fill: int = 0) -> bytes:
    """One frame: ``header`` followed by ``fill`` bytes up to the frame length."""
    return header.to_bytes(4, "big") + bytes([fill]) * (frame_length(header) - 4)


def info_frame(header: int, tag: bytes = b"Xing") -> bytes:
    """A LAME/Xing-style info frame: the tag right after the side info."""
    side_info = 32 if header & ~PADDING_BIT == MPEG1_128K_44K else 9
    body = bytearray(frame_length(header) - 4)
    body[side_info : side_info + len(tag)] = tag
    return header.to_bytes(4, "big") + bytes(body)


def vbri_frame(header: int) -> bytes:
    """A Fraunhofer VBRI info frame: the tag 32 bytes after the header."""
    body = bytearray(frame_length(header) - 4)
    body[32:36] = b"VBRI"
    return header.to_bytes(4, "big") + bytes(body)


def sine_pcm(seconds: float, rate: int, *, channels: int = 1, hz: float = 440.0) -> bytes:
    """16-bit signed little-endian PCM of a sine tone, interleaved if ``channels`` > 1."""
    count = round(seconds * rate)
    step = 2 * math.pi * hz / rate
    samples = array.array("h")
    for i in range(count):
        value = int(8000 * math.sin(i * step))
        samples.extend([value] * channels)
    return samples.tobytes()


def lame_mp3(
    pcm: bytes, *, rate: int, channels: int = 1, bitrate: int = 32, out_rate: int | None = None
) -> bytes:
    """Encode ``pcm`` with lameenc directly (not through the code under test)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(out_rate or rate)
    encoder.set_channels(channels)
    encoder.set_quality(7)
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())
