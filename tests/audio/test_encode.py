"""PCM to house-format MP3 with LAME, and cached house-format silence."""

from __future__ import annotations

import math

import pytest

from tests.audio.frames import sine_pcm
from tts_service.audio import mp3
from tts_service.audio.convert import decode_to_pcm
from tts_service.audio.encode import LAME_DELAY_SAMPLES, encode_pcm, silence
from tts_service.audio.format import HOUSE_FORMAT


@pytest.mark.parametrize(
    ("seconds", "frames"),
    [(0.0, 0), (0.011, 0), (0.012, 0), (0.013, 1), (0.024, 1), (0.5, 21), (1.0, 42), (7.2, 300)],
)
def test_silence_lasts_exactly_rounded_frames(seconds, frames):
    data = silence(seconds)
    if frames == 0:
        assert data == b""
        return
    stream = mp3.parse(data, strict=True)
    assert len(stream) == frames
    assert stream.is_format(HOUSE_FORMAT)
    assert stream.audio == data
    assert stream.duration_seconds == pytest.approx(frames * 0.024)


def test_silence_is_cached_and_decodes_to_zeros():
    assert silence(1.0) is silence(1.0)
    samples, rate = decode_to_pcm(silence(1.0))
    assert rate == 24_000
    assert len(samples) == 2 * 42 * 576
    assert not any(samples)


def test_silence_can_be_concatenated_with_speech():
    speech = encode_pcm(sine_pcm(0.5, 24_000), 24_000)
    article = silence(0.3) + speech + silence(0.3) + speech
    samples, _ = decode_to_pcm(article)
    assert len(samples) // 2 == len(mp3.parse(article, strict=True)) * 576


def test_negative_silence_is_refused():
    with pytest.raises(ValueError, match="cannot last"):
        silence(-0.1)


@pytest.mark.parametrize("rate", [8_000, 11_025, 16_000, 22_050, 24_000, 44_100, 48_000])
def test_encoded_pcm_is_house_format_and_decodes_fully(rate):
    seconds = 1.5
    data = encode_pcm(sine_pcm(seconds, rate), rate)
    stream = mp3.parse(data, strict=True)
    assert stream.format == HOUSE_FORMAT
    assert stream.audio == data
    # LAME adds its delay and pads to a whole frame; without an info frame nothing trims it.
    expected = seconds + LAME_DELAY_SAMPLES / 24_000
    assert abs(stream.duration_seconds - expected) <= HOUSE_FORMAT.frame_seconds
    samples, decoded_rate = decode_to_pcm(data)
    assert decoded_rate == 24_000
    assert len(samples) // 2 == len(stream) * 576


def test_frame_count_follows_the_documented_delay():
    for samples in (1, 575, 576, 1_000, 24_000, 240_007):
        stream = mp3.parse(encode_pcm(bytes(2 * samples), 24_000), strict=True)
        least = math.ceil((samples + LAME_DELAY_SAMPLES) / 576)
        assert least <= len(stream) <= least + 1


def test_encoded_tone_survives():
    """The tone comes back at about the level it went in: LAME was fed the right format."""
    samples, _ = decode_to_pcm(encode_pcm(sine_pcm(1.0, 22_050), 22_050))
    middle = memoryview(samples).cast("h")[6_000:18_000]
    rms = math.sqrt(sum(v * v for v in middle) / len(middle))
    assert 8000 / math.sqrt(2) * 0.8 < rms < 8000 / math.sqrt(2) * 1.2


def test_empty_pcm_gives_a_few_frames_of_silence():
    data = encode_pcm(b"", 22_050)
    assert 1 <= len(mp3.parse(data, strict=True)) <= 3


@pytest.mark.parametrize(
    ("pcm", "rate", "quality", "message"),
    [
        (b"\x00", 24_000, 2, "even byte count"),
        (b"", 0, 2, "must be positive"),
        (b"", 24_000, 10, "quality"),
    ],
)
def test_bad_arguments_are_refused(pcm, rate, quality, message):
    with pytest.raises(ValueError, match=message):
        encode_pcm(pcm, rate, quality=quality)


@pytest.mark.parametrize("quality", [0, 9])
def test_both_ends_of_lames_quality_range_are_accepted(quality):
    # Found by mutation testing: "0 <= quality" could become "0 < quality" unnoticed.
    stream = mp3.parse(encode_pcm(sine_pcm(0.1, rate=24_000), 24_000, quality=quality))
    assert stream.is_format(HOUSE_FORMAT)


@pytest.mark.parametrize(("rate", "quality"), [(0, 5), (-8000, 5), (24_000, -1), (24_000, 10)])
def test_impossible_arguments_are_refused(rate, quality):
    with pytest.raises(ValueError):
        encode_pcm(b"\0\0" * 10, rate, quality=quality)
