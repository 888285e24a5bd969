"""Any MP3 into the house format, and the strict ffmpeg decoder the tests rely on."""

from __future__ import annotations

import pytest

from tests.audio.frames import MPEG2_32K_24K_MONO, info_frame, lame_mp3, sine_pcm
from tts_service.audio import mp3
from tts_service.audio.convert import decode_to_pcm, to_house_format
from tts_service.audio.encode import LAME_DELAY_SAMPLES
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.audio.id3 import id3_title_tag
from tts_service.errors import AudioFormatError


@pytest.fixture(scope="module")
def house_mp3() -> bytes:
    """Two seconds of tone, made by lameenc straight in the house format."""
    return lame_mp3(sine_pcm(2.0, 24_000), rate=24_000)


def test_stereo_44k_128k_is_reencoded_into_the_house_format():
    source = lame_mp3(sine_pcm(2.0, 44_100, channels=2), rate=44_100, channels=2, bitrate=128)
    assert mp3.stream_format(source).sample_rate == 44_100
    converted = to_house_format(source)
    stream = mp3.parse(converted, strict=True)
    assert stream.format == HOUSE_FORMAT
    # Two LAME passes, each adding its delay and end padding.
    assert 2.0 <= stream.duration_seconds <= 2.0 + 2 * (LAME_DELAY_SAMPLES / 24_000 + 0.03)
    samples, rate = decode_to_pcm(converted)
    assert rate == 24_000 and len(samples) // 2 == len(stream) * 576


def test_vbr_input_is_reencoded():
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(24_000)
    encoder.set_channels(1)
    encoder.set_vbr(4)
    encoder.set_vbr_quality(4)
    source = bytes(encoder.encode(sine_pcm(1.0, 24_000, hz=3000))) + bytes(encoder.flush())
    converted = to_house_format(source)
    assert mp3.stream_format(converted, strict=True) == HOUSE_FORMAT


def test_house_format_comes_back_byte_identical_minus_tags(house_mp3):
    tagged = id3_title_tag("Lạng Sơn") + info_frame(MPEG2_32K_24K_MONO, b"Info") + house_mp3
    assert to_house_format(tagged) == house_mp3
    assert to_house_format(house_mp3 + b"TAG" + bytes(125)) == house_mp3


def test_truncated_input_raises_unless_lenient(house_mp3):
    cut = house_mp3[:-40]
    with pytest.raises(AudioFormatError, match="ends inside a frame"):
        to_house_format(cut)
    assert to_house_format(cut, strict=False) == house_mp3[:-96]


def test_not_mp3_raises():
    with pytest.raises(AudioFormatError, match="not an MP3 stream"):
        to_house_format(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(100))


def test_decode_to_pcm_counts_every_frame(house_mp3):
    samples, rate = decode_to_pcm(house_mp3)
    assert rate == 24_000
    assert len(samples) // 2 == len(house_mp3) // 96 * 576


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d[:960] + b"\x12\x34" * 30 + d[960:], id="garbage-inside"),
        pytest.param(lambda d: d[:960] + d[960 + 48 :], id="half-frame-missing"),
        pytest.param(lambda d: d[:1920] + bytes(range(256)) * 8, id="garbage-tail"),
        pytest.param(lambda d: b"not an mp3 at all" * 100, id="no-mp3"),
    ],
)
def test_decode_to_pcm_detects_corruption(house_mp3, damage):
    with pytest.raises(AudioFormatError, match="ffmpeg failed to decode"):
        decode_to_pcm(damage(house_mp3))
