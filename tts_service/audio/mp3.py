"""A pure-Python MPEG audio Layer III frame parser: header hopping, no decoding.

Every MP3 the service handles is checked and cut here: engine answers are parsed (tags and
the LAME/Xing info frame stripped) before their frames are concatenated into an article, and
durations come from counting frames. Walking a 5-minute stream only reads ~12 500 four-byte
headers, so it takes a few milliseconds.

The parser is strict about what sits between frames: after an optional leading ID3v2 tag the
bytes must be back-to-back frames up to the end or a trailing ID3v1 ``TAG``. Anything else is
an :class:`~tts_service.errors.AudioFormatError`, because a gap in engine output means the
answer is broken, not that a resync would help.
"""

from __future__ import annotations

import logging
import struct
from typing import NamedTuple

from tts_service.audio.format import AudioFormat
from tts_service.errors import AudioFormatError

__all__ = [
    "Frame",
    "Mp3Stream",
    "audio_frames",
    "duration_seconds",
    "parse",
    "parse_frames",
    "stream_format",
]

logger = logging.getLogger(__name__)

# Bit rates in kbps by index 1..14 (0 is "free format", 15 is forbidden), Layer III only.
_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Sample rates by version bits (0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1); index 3 is reserved.
_SAMPLE_RATES = {
    3: (44100, 48000, 32000),
    2: (22050, 24000, 16000),
    0: (11025, 12000, 8000),
}

_ID3V2_HEADER = 10
_ID3V1_SIZE = 128
_read_u32 = struct.Struct(">I").unpack_from


class Frame(NamedTuple):
    """One Layer III frame: where it sits in the input and what it holds.

    A NamedTuple rather than a dataclass because a long stream makes thousands of them and
    tuple construction is the cheapest Python offers.
    """

    offset: int
    length: int
    sample_rate: int
    channels: int
    bitrate_kbps: int
    samples: int

    @property
    def end(self) -> int:
        """Offset of the byte just after this frame."""
        return self.offset + self.length

    @property
    def seconds(self) -> float:
        """Playing time of this frame, e.g. 576 / 24000 = 0.024 s."""
        return self.samples / self.sample_rate


class _Header(NamedTuple):
    """What a 32-bit frame header says, minus the frame's position."""

    length: int
    sample_rate: int
    channels: int
    bitrate_kbps: int
    samples: int
    side_info: int
    crc: bool


class _BadHeader(Exception):
    """Internal: the four bytes at a frame position are not a usable Layer III header."""


# Header bits that change nothing the parser reports (private, mode extension, copyright,
# original) are masked off before the cache lookup, which bounds the cache to ~12 000 keys.
_KEY_MASK = 0xFFFFFFFF & ~0x13C
_HEADERS: dict[int, _Header] = {}


def _decode_header(word: int) -> _Header:
    """Decode a frame header word; results are cached in ``_HEADERS`` by the caller.

    Raises :class:`_BadHeader` with the reason; the caller adds the byte offset.
    """
    if word >> 21 != 0x7FF:
        raise _BadHeader("no frame sync")
    version = (word >> 19) & 0b11
    if version == 1:
        raise _BadHeader("reserved MPEG version")
    layer = (word >> 17) & 0b11
    if layer != 0b01:
        names = {0b11: "Layer I", 0b10: "Layer II", 0b00: "reserved layer"}
        raise _BadHeader(f"{names[layer]} is not MP3 (only Layer III is)")
    bitrate_index = (word >> 12) & 0b1111
    if bitrate_index == 0:
        raise _BadHeader("free-format bit rate is not supported")
    if bitrate_index == 15:
        raise _BadHeader("forbidden bit rate index")
    rate_index = (word >> 10) & 0b11
    if rate_index == 3:
        raise _BadHeader("reserved sample rate index")
    if word & 0b11 == 0b10:
        raise _BadHeader("reserved emphasis")
    mpeg1 = version == 3
    bitrate = (_BITRATES_V1 if mpeg1 else _BITRATES_V2)[bitrate_index]
    sample_rate = _SAMPLE_RATES[version][rate_index]
    mono = (word >> 6) & 0b11 == 0b11
    samples = 1152 if mpeg1 else 576
    padding = (word >> 9) & 1
    # Layer III: bytes = samples/8 * bit rate / sample rate, plus one padding byte.
    length = samples // 8 * bitrate * 1000 // sample_rate + padding
    if mpeg1:
        side_info = 17 if mono else 32
    else:
        side_info = 9 if mono else 17
    return _Header(
        length=length,
        sample_rate=sample_rate,
        channels=1 if mono else 2,
        bitrate_kbps=bitrate,
        samples=samples,
        side_info=side_info,
        crc=not (word >> 16) & 1,
    )


class Mp3Stream:
    """A parsed MP3: its audio frames and what was stripped around them.

    ``frames`` excludes the info frame, so concatenating ``audio`` of several streams gives a
    playable stream without stray Xing headers in the middle. Frame objects are only built
    when asked for: duration, format and ``audio`` come straight from the header walk.
    """

    __slots__ = (
        "_frames",
        "_headers",
        "_kinds",
        "_offsets",
        "data",
        "has_id3v1",
        "id3v2_size",
        "info_frame",
        "truncated_bytes",
    )

    def __init__(
        self,
        data: bytes,
        offsets: list[int],
        headers: list[_Header],
        *,
        info_frame: Frame | None = None,
        id3v2_size: int = 0,
        has_id3v1: bool = False,
        truncated_bytes: int = 0,
    ) -> None:
        if not offsets or len(offsets) != len(headers):
            raise ValueError("an Mp3Stream needs one header per frame offset, at least one")
        self.data = data
        self._offsets = offsets
        self._headers = headers
        # Headers are shared cache objects, so distinct ones are found by identity, in C speed.
        distinct = dict(zip(map(id, headers), headers, strict=True)).values()
        self._kinds = {(h.sample_rate, h.channels, h.bitrate_kbps, h.samples) for h in distinct}
        self._frames: tuple[Frame, ...] | None = None
        self.info_frame = info_frame
        self.id3v2_size = id3v2_size
        self.has_id3v1 = has_id3v1
        self.truncated_bytes = truncated_bytes

    def __repr__(self) -> str:
        return (
            f"<Mp3Stream {len(self._offsets)} frames, {self.duration_seconds:.3f} s, "
            f"info_frame={self.info_frame is not None}, id3v2={self.id3v2_size} B>"
        )

    def __len__(self) -> int:
        """Number of audio frames."""
        return len(self._offsets)

    @property
    def frames(self) -> tuple[Frame, ...]:
        """The audio frames in order (info frame excluded)."""
        if self._frames is None:
            self._frames = tuple(
                Frame(pos, h.length, h.sample_rate, h.channels, h.bitrate_kbps, h.samples)
                for pos, h in zip(self._offsets, self._headers, strict=True)
            )
        return self._frames

    @property
    def audio(self) -> bytes:
        """The audio frames, byte for byte: no tags, no info frame, no truncated tail."""
        return self.data[self._offsets[0] : self._offsets[-1] + self._headers[-1].length]

    @property
    def sample_count(self) -> int:
        """Samples per channel in all audio frames (encoder delay and padding included)."""
        if len({kind[3] for kind in self._kinds}) == 1:
            return len(self._offsets) * self._headers[0].samples
        return sum(h.samples for h in self._headers)

    @property
    def duration_seconds(self) -> float:
        """Playing time, by adding up frame durations."""
        if len({kind[0] for kind in self._kinds}) == 1:
            return self.sample_count / self._headers[0].sample_rate
        return sum(h.samples / h.sample_rate for h in self._headers)

    @property
    def format(self) -> AudioFormat:
        """The stream's one format; raises :class:`AudioFormatError` unless it is CBR."""
        kinds = {kind[:3] for kind in self._kinds}
        if len(kinds) > 1:
            shown = ", ".join(f"{r} Hz/{c} ch/{b} kbps" for r, c, b in sorted(kinds)[:4])
            raise AudioFormatError(
                f"MP3 frames disagree, so the stream has no single constant format: {shown}"
            )
        rate, channels, bitrate = kinds.pop()
        return AudioFormat(sample_rate=rate, channels=channels, bitrate_kbps=bitrate)

    def is_format(self, audio_format: AudioFormat) -> bool:
        """Whether every audio frame is in ``audio_format``."""
        wanted = (audio_format.sample_rate, audio_format.channels, audio_format.bitrate_kbps)
        return all(kind[:3] == wanted for kind in self._kinds)


def _id3v2_end(data: bytes, pos: int) -> int:
    """Return the offset just past the ID3v2 tag starting at ``pos``."""
    if len(data) - pos < _ID3V2_HEADER:
        raise AudioFormatError(f"truncated ID3v2 tag header at byte {pos}")
    size_bytes = data[pos + 6 : pos + 10]
    if any(b & 0x80 for b in size_bytes):
        raise AudioFormatError(f"ID3v2 tag at byte {pos} has a malformed (non-syncsafe) size")
    size = 0
    for b in size_bytes:
        size = (size << 7) | b
    footer = _ID3V2_HEADER if data[pos + 5] & 0x10 else 0
    end = pos + _ID3V2_HEADER + size + footer
    if end > len(data):
        raise AudioFormatError(
            f"ID3v2 tag at byte {pos} claims {size} bytes but the input ends at {len(data)}"
        )
    return end


def _is_info_frame(data: bytes, pos: int, header: _Header) -> bool:
    """Whether the frame at ``pos`` is a Xing/Info (LAME) or VBRI header rather than audio."""
    start = pos + 4 + header.side_info
    # Writers disagree on whether the Xing offset counts the CRC, so look in both places.
    starts = (start, start + 2) if header.crc else (start,)
    if any(data[s : s + 4] in (b"Xing", b"Info") for s in starts):
        return True
    # Fraunhofer's VBRI header sits at a fixed 32 bytes after the frame header.
    return data[pos + 36 : pos + 40] == b"VBRI"


def parse(data: bytes | bytearray, *, strict: bool = False) -> Mp3Stream:
    """Walk the frames of ``data`` and return them with what was stripped around them.

    A last frame cut short is dropped (and logged) unless ``strict``, in which case it is an
    :class:`AudioFormatError`; use ``strict=True`` on engine output, where a short frame means
    the download was cut. Garbage between or instead of frames always raises.
    """
    data = bytes(data)
    end = len(data)
    pos = 0
    while data.startswith(b"ID3", pos):
        pos = _id3v2_end(data, pos)
    id3v2_size = pos
    offsets: list[int] = []
    headers: list[_Header] = []
    has_id3v1 = False
    truncated = 0
    while pos < end:
        if end - pos < 4:
            truncated = end - pos
            break
        key = _read_u32(data, pos)[0] & _KEY_MASK
        header = _HEADERS.get(key)
        if header is None:
            try:
                header = _HEADERS[key] = _decode_header(key)
            except _BadHeader as exc:
                if end - pos == _ID3V1_SIZE and data.startswith(b"TAG", pos):
                    has_id3v1 = True
                    break
                what = "MP3 data" if offsets else "an MP3 stream"
                raise AudioFormatError(
                    f"not {what}: {exc} at byte {pos} (bytes {data[pos : pos + 4].hex()})"
                ) from None
        length = header.length
        if pos + length > end:
            truncated = end - pos
            break
        offsets.append(pos)
        headers.append(header)
        pos += length
    if truncated:
        message = f"MP3 ends inside a frame: last {truncated} bytes from byte {pos} are cut short"
        if strict:
            raise AudioFormatError(message)
        logger.debug("%s; dropping them", message)
    # Only the first frame may be a LAME/Xing/VBRI info frame; checked once, after the walk.
    info_frame: Frame | None = None
    if offsets and _is_info_frame(data, offsets[0], headers[0]):
        first = headers[0]
        info_frame = Frame(
            offsets.pop(0),
            first.length,
            first.sample_rate,
            first.channels,
            first.bitrate_kbps,
            first.samples,
        )
        headers.pop(0)
    if not offsets:
        raise AudioFormatError(f"no MP3 audio frames in {end} bytes")
    return Mp3Stream(
        data,
        offsets,
        headers,
        info_frame=info_frame,
        id3v2_size=id3v2_size,
        has_id3v1=has_id3v1,
        truncated_bytes=truncated,
    )


def parse_frames(data: bytes | bytearray, *, strict: bool = False) -> list[Frame]:
    """Return the audio frames of ``data`` (tags and info frame excluded)."""
    return list(parse(data, strict=strict).frames)


def audio_frames(data: bytes | bytearray, *, strict: bool = False) -> bytes:
    """Return just the audio frames of ``data``: what gets concatenated into an article."""
    return parse(data, strict=strict).audio


def duration_seconds(data: bytes | bytearray, *, strict: bool = False) -> float:
    """Return the playing time of ``data`` by counting its frames."""
    return parse(data, strict=strict).duration_seconds


def stream_format(data: bytes | bytearray, *, strict: bool = False) -> AudioFormat:
    """Return the one format all frames share; raise :class:`AudioFormatError` if none."""
    return parse(data, strict=strict).format
