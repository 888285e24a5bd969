"""Bring any MP3 into the house format, and decode MP3 to PCM with ffmpeg.

House-format input is passed through byte for byte (only tags and the info frame are cut),
so Google's parts are never re-encoded. Anything else is decoded by pydub and encoded again
by :mod:`tts_service.audio.encode`.

ffmpeg comes from the ``imageio-ffmpeg`` wheel, never from ``PATH``; :func:`ffmpeg_exe` is
the one place that finds it and points pydub at it.
"""

from __future__ import annotations

import io
import logging
import subprocess
import warnings
from functools import lru_cache
from typing import Any

import imageio_ffmpeg

from tts_service.audio import mp3
from tts_service.audio.encode import encode_pcm
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.errors import AudioFormatError

__all__ = ["decode_to_pcm", "ffmpeg_exe", "to_house_format"]

logger = logging.getLogger(__name__)

# Seconds before an ffmpeg decode is given up; a 10-minute article decodes in about one.
_FFMPEG_TIMEOUT = 120.0


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Return the path of the ffmpeg binary shipped by ``imageio-ffmpeg``."""
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise AudioFormatError(f"no ffmpeg binary from imageio-ffmpeg: {exc}") from exc


@lru_cache(maxsize=1)
def _audio_segment() -> Any:
    """Import pydub's ``AudioSegment`` with its converter set to our ffmpeg; once.

    pydub warns on import that ffmpeg is not on ``PATH`` (we never use ``PATH``), that
    ``audioop`` is deprecated, and, when compiling itself without a cached ``.pyc``, about
    invalid escapes in its regexes. None of that concerns us, and under pytest's
    ``filterwarnings = error`` each would be fatal, so they are silenced here and only here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Couldn't find ffmpeg", RuntimeWarning)
        warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
        warnings.filterwarnings("ignore", "invalid escape sequence", DeprecationWarning)
        warnings.filterwarnings("ignore", "invalid escape sequence", SyntaxWarning)
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_exe()
    return AudioSegment


def to_house_format(data: bytes, *, strict: bool = True) -> bytes:
    """Return the audio frames of MP3 ``data`` in :data:`HOUSE_FORMAT`.

    Already house-format input comes back untouched, minus tags and info frame; other MP3
    (another rate, stereo, VBR…) is decoded and re-encoded. ``strict`` (the default, since
    the input is usually an engine's answer) makes a truncated last frame an error instead
    of dropping it. Raises :class:`AudioFormatError` if ``data`` is not MP3 or won't decode.
    """
    stream = mp3.parse(data, strict=strict)
    if stream.is_format(HOUSE_FORMAT):
        return stream.audio
    logger.debug("re-encoding %s into the house format", stream)
    audio_segment = _audio_segment()
    from pydub.exceptions import CouldntDecodeError  # already imported, warnings handled

    try:
        segment = audio_segment.from_file(
            io.BytesIO(stream.audio),
            format="mp3",
            # Naming the codec stops pydub from asking ffprobe, which imageio-ffmpeg lacks.
            codec="mp3",
        )
    except (CouldntDecodeError, OSError) as exc:
        raise AudioFormatError(f"ffmpeg could not decode the MP3 ({stream}): {exc}") from exc
    segment = segment.set_channels(1).set_sample_width(2)
    return encode_pcm(segment.raw_data, segment.frame_rate)


def decode_to_pcm(data: bytes) -> tuple[bytes, int]:
    """Decode MP3 ``data`` with ffmpeg into 16-bit mono PCM; return ``(samples, rate)``.

    Strict on purpose, to prove that audio decodes *fully*: ffmpeg runs with ``-xerror``
    and every ``-err_detect`` check, and anything it prints at error level counts as a
    failure. ffmpeg alone does not notice a last frame cut short or zero bytes between
    frames (it pads and skips them), which is what :func:`mp3.parse` with ``strict=True``
    is for; nor can anything notice flipped bits in Huffman data, which has no checksum.
    Raises :class:`AudioFormatError` when ffmpeg fails or complains.
    """
    command = [
        ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-xerror",
        "-err_detect",
        "crccheck+bitstream+buffer+explode",
        "-f",
        "mp3",
        "-i",
        "pipe:0",
        "-ac",
        "1",
        "-fflags",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-f",
        "wav",
        "pipe:1",
    ]
    try:
        done = subprocess.run(
            command, input=bytes(data), capture_output=True, timeout=_FFMPEG_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioFormatError(f"could not run ffmpeg: {exc}") from exc
    errors = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or errors:
        raise AudioFormatError(
            f"ffmpeg failed to decode the MP3 (exit {done.returncode}): {errors or 'no message'}"
        )
    return _read_wav(done.stdout)


def _read_wav(wav: bytes) -> tuple[bytes, int]:
    """Pull the sample rate and the samples out of ffmpeg's piped WAV.

    The stdlib ``wave`` module trusts the chunk sizes, which ffmpeg cannot fill in when
    writing to a pipe, so the chunks are walked here and the data runs to the end.
    """
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise AudioFormatError("ffmpeg did not return a WAV stream")
    pos = 12
    rate = 0
    while pos + 8 <= len(wav):
        chunk, size = wav[pos : pos + 4], int.from_bytes(wav[pos + 4 : pos + 8], "little")
        if chunk == b"fmt ":
            rate = int.from_bytes(wav[pos + 12 : pos + 16], "little")
        elif chunk == b"data":
            if not rate:
                raise AudioFormatError("ffmpeg's WAV has no fmt chunk before its data")
            return wav[pos + 8 :], rate
        pos += 8 + size + (size & 1)
    raise AudioFormatError("ffmpeg's WAV has no data chunk")
