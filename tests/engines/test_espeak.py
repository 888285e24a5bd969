"""The offline eSpeak NG voice, exercised through the real library (no mocks)."""

from __future__ import annotations

import gc
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from tts_service.audio import mp3
from tts_service.audio.convert import decode_to_pcm
from tts_service.audio.encode import silence
from tts_service.audio.format import HOUSE_FORMAT
from tts_service.engines.base import SpeechEngine
from tts_service.engines.espeak import BLANK_SILENCE_SECONDS, EspeakEngine
from tts_service.errors import UnknownEngineError

TEXT = "Ủy ban nhân dân tỉnh Lạng Sơn"


@pytest.fixture(scope="module")
def engine() -> EspeakEngine:
    return EspeakEngine()


def test_is_a_speech_engine(engine):
    assert isinstance(engine, SpeechEngine)
    assert engine.name == "espeak"
    assert engine.voice == "vi"
    assert engine.audio_format == HOUSE_FORMAT
    assert engine.max_chars == 500


def test_sound_params_name_everything_that_changes_the_audio(engine):
    params = engine.sound_params
    assert params["voice"] == "vi"
    assert params["rate"] == "165" and params["pitch"] == "50"
    assert params["espeak_ng"].count(".") >= 1  # e.g. 1.52.0
    assert params["lame_quality"] == "7"
    assert EspeakEngine(rate=200).sound_params != params


def test_vietnamese_sentence_is_house_format_and_decodes_fully(engine):
    data = engine.synthesize(TEXT)
    stream = mp3.parse(data, strict=True)
    assert stream.format == HOUSE_FORMAT
    assert stream.audio == data
    assert 0.5 <= stream.duration_seconds <= 10
    samples, rate = decode_to_pcm(data)
    assert rate == 24_000
    assert len(samples) // 2 == len(stream) * 576
    assert any(samples)  # speech, not silence


def test_the_callback_survives_garbage_collection(engine):
    """libespeak-ng holds only a raw pointer to the ctypes thunk; the engine keeps it alive."""
    engine.synthesize("một")
    gc.collect()
    assert mp3.duration_seconds(engine.synthesize("hai"), strict=True) > 0.1


def test_two_engines_share_one_library():
    slow, fast = EspeakEngine(rate=100), EspeakEngine(rate=400)
    slow_seconds = mp3.duration_seconds(slow.synthesize(TEXT))
    fast_seconds = mp3.duration_seconds(fast.synthesize(TEXT))
    assert slow_seconds > 2 * fast_seconds


def test_concurrent_calls_all_succeed_with_their_own_settings():
    """Threads racing on the one library: the lock keeps each call's voice and rate its own."""
    slow, fast = EspeakEngine(rate=100), EspeakEngine(rate=400)
    texts = [f"{TEXT}, lần thứ {i}." for i in range(12)]
    expected = {
        (engine.rate, text): mp3.duration_seconds(engine.synthesize(text))
        for engine in (slow, fast)
        for text in texts
    }
    jobs = [(engine, text) for text in texts for engine in (slow, fast)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda job: job[0].synthesize(job[1]), jobs))
    for (engine, text), data in zip(jobs, results, strict=True):
        stream = mp3.parse(data, strict=True)
        assert stream.format == HOUSE_FORMAT
        # eSpeak carries a little state between calls, so lengths vary by a few ms.
        assert stream.duration_seconds == pytest.approx(expected[engine.rate, text], abs=0.1)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_is_a_short_silence(engine, text):
    assert engine.synthesize(text) == silence(BLANK_SILENCE_SECONDS)


@pytest.mark.parametrize("text", ["...", "—", "\x00"])
def test_unspeakable_text_still_gives_playable_frames(engine, text):
    stream = mp3.parse(engine.synthesize(text), strict=True)
    assert stream.format == HOUSE_FORMAT
    assert stream.duration_seconds < 1.0


@pytest.mark.parametrize("voice", ["vi-vn-x-south", "vi-vn-x-central"])
def test_regional_voices(engine, voice):
    northern = engine.synthesize(TEXT)
    regional = engine.synthesize(TEXT, voice=voice)
    # Another voice really spoke (other sounds), the same words at the same pace.
    assert pcm(regional) != pcm(northern)
    seconds = mp3.duration_seconds(regional, strict=True)
    assert seconds == pytest.approx(mp3.duration_seconds(northern), rel=0.35)


def test_unknown_voice_is_refused_and_the_engine_recovers(engine):
    before = engine.synthesize(TEXT)
    with pytest.raises(UnknownEngineError, match="no voice 'xx-nowhere'"):
        engine.synthesize(TEXT, voice="xx-nowhere")
    # The refusal left the default voice in place: the same text sounds as before.
    after = engine.synthesize(TEXT)
    assert mp3.duration_seconds(after) == pytest.approx(mp3.duration_seconds(before), abs=0.1)


def pcm(data: bytes) -> bytes:
    """The audio frames without the tags and info frame around them."""
    return mp3.parse(data, strict=True).audio


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 50}, "rate"),
        ({"pitch": 101}, "pitch"),
        ({"lame_quality": 10}, "quality"),
        ({"max_chars": 0}, "max_chars"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EspeakEngine(**kwargs)


def test_seed_article_in_500_char_chunks_gives_minutes_of_speech(engine, seed_text):
    # Its speed is measured in bench/bench_read_path.py, not asserted here.
    chunks = textwrap.wrap(seed_text, engine.max_chars)
    parts = [engine.synthesize(chunk) for chunk in chunks]
    seconds = sum(mp3.duration_seconds(part, strict=True) for part in parts)
    assert seconds > 120  # a few minutes of speech
