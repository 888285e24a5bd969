"""The ID3v2 title tag: mutagen reads back what it wrote, and the parser skips it."""

from __future__ import annotations

import io

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from tests.audio.frames import lame_mp3, sine_pcm
from tts_service.audio import mp3
from tts_service.audio.id3 import id3_title_tag

TITLE = "Ủy ban nhân dân tỉnh Lạng Sơn"


@pytest.fixture(scope="module")
def frames() -> bytes:
    return lame_mp3(sine_pcm(1.0, 24_000), rate=24_000)


def test_title_round_trips_through_mutagen(frames):
    audio = MP3(io.BytesIO(id3_title_tag(TITLE) + frames))  # type: ignore[no-untyped-call]
    assert audio.tags is not None
    assert audio.tags["TIT2"].text == [TITLE]
    assert audio.info.sample_rate == 24_000
    assert "TPE1" not in audio.tags


def test_artist_and_album(frames):
    tag = id3_title_tag(TITLE, artist="Báo Lạng Sơn", album="Thời sự")
    tags = ID3(io.BytesIO(tag + frames))  # type: ignore[no-untyped-call]
    assert tags["TPE1"].text == ["Báo Lạng Sơn"]
    assert tags["TALB"].text == ["Thời sự"]
    assert tags.version == (2, 4, 0)


def test_text_is_utf8_and_unpadded():
    tag = id3_title_tag(TITLE)
    assert tag.startswith(b"ID3\x04\x00")
    encoded = TITLE.encode("utf-8")
    assert encoded in tag
    # header 10 + frame header 10 + encoding byte 1 + text + NUL (mutagen terminates
    # v2.4 text): nothing else, no padding.
    assert len(tag) == 10 + 10 + 1 + len(encoded) + 1


def test_parser_skips_the_tag(frames):
    tag = id3_title_tag(TITLE)
    stream = mp3.parse(tag + frames, strict=True)
    assert stream.id3v2_size == len(tag)
    assert stream.audio == frames


def test_nul_cannot_split_the_title(frames):
    tags = ID3(io.BytesIO(id3_title_tag("a\x00b") + frames))  # type: ignore[no-untyped-call]
    assert tags["TIT2"].text == ["ab"]


def test_blank_title_is_refused():
    with pytest.raises(ValueError, match="non-blank"):
        id3_title_tag("  ")
