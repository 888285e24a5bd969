"""The MP3 frame parser: real LAME output, hand-built streams, tags, info frames, damage."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.audio.frames import (
    MPEG1_128K_44K,
    MPEG2_32K_24K_MONO,
    PADDING_BIT,
    frame,
    frame_length,
    info_frame,
    lame_mp3,
    sine_pcm,
    vbri_frame,
)
from tts_service.audio import mp3
from tts_service.audio.format import HOUSE_FORMAT, AudioFormat
from tts_service.audio.id3 import id3_title_tag
from tts_service.errors import AudioFormatError

HOUSE_FRAME = frame(MPEG2_32K_24K_MONO)


def mpeg1_stream(count: int) -> bytes:
    """MPEG-1 44.1 kHz frames padded the way an encoder does: 417 or 418 bytes."""
    out = bytearray()
    for i in range(count):
        # An encoder pads so that the average length is 144 * 128000 / 44100 = 417.96.
        exact = 144 * 128_000
        padded = (i + 1) * exact // 44_100 - i * exact // 44_100 == 418
        out += frame(MPEG1_128K_44K | (PADDING_BIT if padded else 0))
    return bytes(out)


def test_lameenc_output_parses_in_the_house_format():
    data = lame_mp3(sine_pcm(1.0, 24_000), rate=24_000)
    stream = mp3.parse(data, strict=True)
    assert stream.format == HOUSE_FORMAT
    assert all(f.length == 96 and f.samples == 576 for f in stream.frames)
    assert stream.audio == data  # lameenc writes no tags and no info frame
    assert len(stream) == len(data) // 96


def test_hand_built_mpeg1_stream():
    data = mpeg1_stream(100)
    frames = mp3.parse_frames(data, strict=True)
    assert len(frames) == 100
    assert {f.length for f in frames} == {417, 418}
    assert frames[0] == mp3.Frame(0, frames[0].length, 44_100, 2, 128, 1152)
    assert all(a.end == b.offset for a, b in zip(frames, frames[1:], strict=False))
    assert frames[-1].end == len(data)
    assert mp3.stream_format(data) == AudioFormat(44_100, 2, 128)


def test_duration_is_exact_frame_count():
    assert mp3.duration_seconds(mpeg1_stream(100)) == pytest.approx(100 * 1152 / 44_100)
    assert mp3.duration_seconds(HOUSE_FRAME * 1000) == pytest.approx(24.0)


def test_frames_of_other_versions_and_modes():
    # MPEG-2.5, 8 kHz, 8 kbps, mono: 72 * 8000 / 8000 = 72 bytes.
    word = 0xFFE318C4  # version 00, Layer III, no CRC; bit rate 1, 8 kHz; mono
    data = word.to_bytes(4, "big") + bytes(68)
    frames = mp3.parse_frames(data * 3, strict=True)
    assert [(f.sample_rate, f.channels, f.bitrate_kbps, f.length) for f in frames] == [
        (8000, 1, 8, 72)
    ] * 3


def test_leading_id3v2_and_trailing_id3v1_are_skipped():
    tag = id3_title_tag("Lạng Sơn")
    id3v1 = b"TAG" + bytes(125)
    stream = mp3.parse(tag + HOUSE_FRAME * 5 + id3v1, strict=True)
    assert stream.id3v2_size == len(tag)
    assert stream.has_id3v1
    assert stream.audio == HOUSE_FRAME * 5
    assert stream.frames[0].offset == len(tag)


def test_id3v2_with_footer_and_two_tags():
    footer_tag = b"ID3\x04\x00\x10\x00\x00\x00\x02" + b"ab" + b"3DI\x04\x00\x10\x00\x00\x00\x02"
    data = footer_tag + id3_title_tag("x") + HOUSE_FRAME * 2
    assert mp3.audio_frames(data, strict=True) == HOUSE_FRAME * 2


@pytest.mark.parametrize("tag", [b"Xing", b"Info"])
def test_xing_and_info_frame_is_dropped(tag):
    data = info_frame(MPEG2_32K_24K_MONO, tag) + HOUSE_FRAME * 3
    stream = mp3.parse(data, strict=True)
    assert stream.info_frame is not None and stream.info_frame.offset == 0
    assert len(stream) == 3
    assert stream.audio == HOUSE_FRAME * 3
    assert stream.duration_seconds == pytest.approx(3 * 0.024)


def test_mpeg1_xing_and_vbri_frames_are_dropped():
    body = mpeg1_stream(4)
    assert len(mp3.parse(info_frame(MPEG1_128K_44K) + body)) == 4
    assert mp3.audio_frames(vbri_frame(MPEG1_128K_44K) + body) == body


def test_only_the_first_frame_can_be_an_info_frame():
    data = HOUSE_FRAME + info_frame(MPEG2_32K_24K_MONO, b"Info") + HOUSE_FRAME
    assert len(mp3.parse(data)) == 3


def test_truncated_last_frame_is_dropped_or_raises_when_strict():
    data = HOUSE_FRAME * 4 + HOUSE_FRAME[:50]
    stream = mp3.parse(data)
    assert len(stream) == 4 and stream.truncated_bytes == 50
    assert stream.audio == HOUSE_FRAME * 4
    with pytest.raises(AudioFormatError, match="ends inside a frame"):
        mp3.parse(data, strict=True)
    with pytest.raises(AudioFormatError, match="ends inside a frame"):
        mp3.parse(HOUSE_FRAME + HOUSE_FRAME[:3], strict=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no MP3 audio frames"),
        (b"<html>Too many requests</html>" * 10, "not an MP3 stream: no frame sync at byte 0"),
        (id3_title_tag("x"), "no MP3 audio frames"),
        (HOUSE_FRAME[:50], "no MP3 audio frames"),
        (info_frame(MPEG2_32K_24K_MONO), "no MP3 audio frames"),
        (HOUSE_FRAME * 2 + b"junk" + HOUSE_FRAME, "not MP3 data: no frame sync at byte 192"),
        (HOUSE_FRAME * 2 + bytes(96), "at byte 192"),
        (b"\xff\xfd\x90\x00" + bytes(500), "Layer II is not MP3"),
        (b"\xff\xff\x90\x00" + bytes(500), "Layer I is not MP3"),
        (b"\xff\xf9\x90\x00" + bytes(500), "reserved layer is not MP3"),
        (b"\xff\xfb\x00\x00" + bytes(500), "free-format"),
        (b"\xff\xfb\xf0\x00" + bytes(500), "forbidden bit rate"),
        (b"\xff\xfb\x9c\x00" + bytes(500), "reserved sample rate"),
        (b"\xff\xeb\x90\x00" + bytes(500), "reserved MPEG version"),
        (b"ID3\x04\x00\x00\x00\x00\x7f\x7f" + HOUSE_FRAME, "claims 16383 bytes"),
        (b"ID3\x04\x00\x00\x80\x00\x00\x00" + HOUSE_FRAME, "non-syncsafe"),
        (b"ID3\x04", "truncated ID3v2"),
    ],
)
def test_garbage_raises_a_clear_error(data, message):
    with pytest.raises(AudioFormatError, match=message):
        mp3.parse(data)


def test_mixed_formats_are_not_one_stream_format():
    data = HOUSE_FRAME * 3 + mpeg1_stream(2)
    stream = mp3.parse(data)
    assert not stream.is_format(HOUSE_FORMAT)
    assert stream.duration_seconds == pytest.approx(3 * 0.024 + 2 * 1152 / 44_100)
    with pytest.raises(AudioFormatError, match="frames disagree"):
        mp3.stream_format(data)


def test_vbr_is_not_a_constant_format():
    other_bitrate = (MPEG2_32K_24K_MONO & ~0xF000) | (5 << 12)  # 40 kbps
    data = HOUSE_FRAME + other_bitrate.to_bytes(4, "big") + bytes(120 - 4)
    with pytest.raises(AudioFormatError, match="32 kbps, 24000 Hz/1 ch/40 kbps"):
        mp3.stream_format(data)


def test_bytearray_and_memoryview_like_input_is_accepted():
    assert mp3.audio_frames(bytearray(HOUSE_FRAME * 2)) == HOUSE_FRAME * 2


def test_parsing_grows_linearly_with_the_audio():
    # How fast five minutes parse is measured in bench/bench_mp3.py; here only the growth:
    # four times the frames may take about four times as long (linear), never sixteen.
    sizes = (12_500, 50_000)
    data = {frames: HOUSE_FRAME * frames for frames in sizes}
    best = dict.fromkeys(sizes, float("inf"))
    for _ in range(5):  # alternated, best of five: a busy machine only ever adds time
        for frames in sizes:
            started = time.perf_counter()
            stream = mp3.parse(data[frames], strict=True)
            _ = stream.format, stream.duration_seconds, stream.audio
            best[frames] = min(best[frames], time.perf_counter() - started)
            assert stream.duration_seconds == pytest.approx(frames * 0.024)
    assert best[50_000] < 10 * best[12_500], best


_HEADERS = st.sampled_from(
    [
        MPEG2_32K_24K_MONO,
        MPEG2_32K_24K_MONO | PADDING_BIT,
        MPEG1_128K_44K,
        MPEG1_128K_44K | PADDING_BIT,
    ]
)


@given(st.lists(_HEADERS, min_size=1, max_size=40))
def test_any_frame_sequence_round_trips(headers):
    data = b"".join(frame(h, fill=0x55) for h in headers)
    frames = mp3.parse_frames(data, strict=True)
    assert [f.length for f in frames] == [frame_length(h) for h in headers]
    assert sum(f.length for f in frames) == len(data)


@given(st.lists(_HEADERS, min_size=1, max_size=10), st.data())
def test_cut_anywhere_parses_or_raises_audio_format_error(headers, data):
    stream_bytes = b"".join(frame(h) for h in headers)
    cut = data.draw(st.integers(0, len(stream_bytes)))
    try:
        stream = mp3.parse(stream_bytes[:cut])
    except AudioFormatError:
        assert cut < frame_length(headers[0])
    else:
        assert stream_bytes.startswith(stream.audio)
        assert len(stream.audio) > cut - max(map(frame_length, headers))


@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_else(blob):
    try:
        mp3.parse(blob, strict=True)
    except AudioFormatError:
        pass


def test_a_bare_stream_reports_nothing_stripped():
    # Found by mutation testing: parse's defaults (no tags, nothing cut) were never checked.
    stream = mp3.parse(HOUSE_FRAME * 3, strict=True)
    assert (stream.id3v2_size, stream.has_id3v1, stream.truncated_bytes) == (0, False, 0)
    cut = mp3.parse(HOUSE_FRAME * 3 + HOUSE_FRAME[:40])
    assert (cut.id3v2_size, cut.has_id3v1, cut.truncated_bytes) == (0, False, 40)
