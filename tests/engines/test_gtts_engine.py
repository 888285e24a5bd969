"""GTTSEngine against the loopback fake of Google's endpoint, over real HTTP.

Timeouts and backoffs are set small so the whole file runs in a few seconds; nothing here
sleeps to wait for something: tests wait on the fake's arrivals or on log events.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import lameenc
import pytest
from gtts import gTTS

from tts_service.audio.format import HOUSE_FORMAT
from tts_service.engines.base import SpeechEngine
from tts_service.engines.gtts_engine import BATCHEXECUTE_PATH, GTTSEngine
from tts_service.errors import SynthesisRejected, SynthesisUnavailable, UnknownEngineError
from tts_service.testing import FakeGoogle, fake_speech

FAST: dict[str, Any] = {"timeout": 1.0, "retries": 2, "backoff_base": 0.001, "backoff_max": 0.01}

VIETNAMESE = [
    "Ủy ban nhân dân tỉnh, ngày 9.",
    "Giá 12.500.000đ lúc 10:30, TP. HCM.",
    "Dr. Nguyễn nói: “được”… Mr. Lê đồng ý.",
    "Chiều nay, ông Hùng\nsẽ đến.",
]


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def engine(fake: FakeGoogle) -> Iterator[GTTSEngine]:
    with GTTSEngine(base_url=fake.base_url, **FAST) as gtts_engine:
        yield gtts_engine


def frame_header(data: bytes) -> tuple[int, int, int, int]:
    """(MPEG version bits, layer bits, sample-rate index, channel mode) of the first frame."""
    return (data[1] >> 3) & 3, (data[1] >> 1) & 3, (data[2] >> 2) & 3, data[3] >> 6


def vietnamese_body(text: str) -> str:
    """What gTTS itself plans for ``text`` with Vietnamese settings and no English steps."""
    tts = gTTS(
        text,
        lang="vi",
        lang_check=False,
        pre_processor_funcs=[],
        tokenizer_func=lambda whole: [whole],
    )
    bodies = tts.get_bodies()
    assert len(bodies) == 1
    return str(bodies[0])


# -- the happy path ----------------------------------------------------------------------


def test_one_chunk_returns_house_format_mp3(engine: GTTSEngine, fake: FakeGoogle) -> None:
    text = "Ủy ban nhân dân tỉnh, ngày 9."
    audio = engine.synthesize(text)
    assert audio == fake_speech(text)
    # MPEG-2 (0b10), Layer III (0b01), 24 kHz (index 1 in MPEG-2), mono (0b11).
    assert frame_header(audio) == (0b10, 0b01, 1, 0b11)
    assert fake.requests == [text]


@pytest.mark.parametrize("text", VIETNAMESE)
def test_body_is_exactly_what_gtts_plans_for_vietnamese(
    engine: GTTSEngine, fake: FakeGoogle, text: str
) -> None:
    engine.synthesize(text)
    [received] = fake.received
    assert received.body == vietnamese_body(text) == engine.request_body(text)
    assert received.text == text.strip(), text
    assert (received.lang, received.slow) == ("vi", False)


def test_gtts_defaults_would_have_altered_the_text() -> None:
    """Why pre-processors are off: gTTS's English defaults rewrite Vietnamese text."""
    text = "Dr. Nguyễn nói: “được”… Mr. Lê đồng ý."
    default = gTTS(text, lang="vi", lang_check=False).get_bodies()
    assert default != [vietnamese_body(text)]


def test_slow_is_sent_and_part_of_the_sound(fake: FakeGoogle) -> None:
    with GTTSEngine(base_url=fake.base_url, slow=True, **FAST) as slow:
        slow.synthesize("Chậm thôi.")
        assert fake.received[0].slow is True
        assert slow.sound_params["slow"] == "true"


def test_sends_gtts_headers_over_one_kept_alive_connection(
    engine: GTTSEngine, fake: FakeGoogle
) -> None:
    for text in VIETNAMESE:
        engine.synthesize(text)
    headers = {k.lower(): v for k, v in fake.received[0].headers.items()}
    for name, value in gTTS.GOOGLE_TTS_HEADERS.items():
        assert headers[name.lower()] == value
    assert fake.connections == 1


def test_describes_itself_as_a_speech_engine(engine: GTTSEngine) -> None:
    assert isinstance(engine, SpeechEngine)
    assert (engine.name, engine.voice, engine.max_chars) == ("gtts", "vi", 100)
    assert engine.audio_format == HOUSE_FORMAT
    assert engine.concurrency == 8
    # base_url only says where requests go; the cache key must not depend on it.
    assert dict(engine.sound_params) == {"lang": "vi", "tld": "com", "slow": "false"}


def test_accepts_its_own_voice_and_refuses_others(engine: GTTSEngine) -> None:
    assert engine.synthesize("Vâng.", voice="vi")
    with pytest.raises(UnknownEngineError):
        engine.synthesize("Yes.", voice="en")


# -- texts that cannot be sent -----------------------------------------------------------


def test_hundred_characters_pass_and_more_are_rejected(
    engine: GTTSEngine, fake: FakeGoogle
) -> None:
    engine.synthesize("a" * 100)
    with pytest.raises(SynthesisRejected, match="101"):
        engine.synthesize("a" * 101)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("text", ["", "   ", "…", " .,; "])
def test_nothing_speakable_is_rejected_without_a_request(
    engine: GTTSEngine, fake: FakeGoogle, text: str
) -> None:
    with pytest.raises(SynthesisRejected):
        engine.synthesize(text)
    assert fake.requests == []


# -- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 408, 500, 502, 503])
def test_transient_status_then_success(engine: GTTSEngine, fake: FakeGoogle, status: int) -> None:
    fake.fail_next(1, status=status)
    assert engine.synthesize("Thử lại.") == fake_speech("Thử lại.")
    assert fake.requests == ["Thử lại."] * 2


def test_retry_after_is_honoured(fake: FakeGoogle) -> None:
    fake.fail_next(1, status=429, retry_after=0.3)
    with GTTSEngine(base_url=fake.base_url, **{**FAST, "backoff_max": 5.0}) as engine:
        engine.synthesize("Chờ đã.")
    first, second = fake.received
    assert first.answered_at is not None
    assert 0.3 <= second.received_at - first.answered_at < 2.0


def test_retry_after_is_capped_by_backoff_max(fake: FakeGoogle) -> None:
    fake.fail_next(1, status=503, retry_after=60)
    with GTTSEngine(base_url=fake.base_url, **{**FAST, "backoff_max": 0.2}) as engine:
        engine.synthesize("Không chờ lâu.")
    first, second = fake.received
    assert first.answered_at is not None
    assert 0.2 <= second.received_at - first.answered_at < 2.0


def test_exhausted_retries_raise_unavailable_with_a_hint(
    engine: GTTSEngine, fake: FakeGoogle
) -> None:
    fake.fail_next(3, status=429, retry_after=0.001)
    with pytest.raises(SynthesisUnavailable, match="3 attempt") as caught:
        engine.synthesize("Quá tải.")
    assert caught.value.retry_after == pytest.approx(0.001)
    assert len(fake.requests) == 3

    fake.fail_next(3, status=503)
    with pytest.raises(SynthesisUnavailable) as caught:
        engine.synthesize("Quá tải.")
    # No hint from Google: suggest the longest wait the engine itself would use.
    assert caught.value.retry_after == engine.backoff_max


def test_hanging_server_times_out_then_unavailable_in_bounded_time(fake: FakeGoogle) -> None:
    fake.hang_next(3)
    settings = {**FAST, "timeout": 0.2}
    started = time.monotonic()
    with (
        GTTSEngine(base_url=fake.base_url, **settings) as engine,
        pytest.raises(SynthesisUnavailable, match="timed out") as caught,
    ):
        engine.synthesize("Im lặng.")
    # Three attempts of 0.2 s plus tiny backoffs; generous bound for slow CI machines.
    assert time.monotonic() - started < 3.0
    assert len(fake.requests) == 3
    assert isinstance(caught.value.__cause__.__cause__, httpx.TimeoutException)  # type: ignore[union-attr]


def test_one_hang_then_success(fake: FakeGoogle) -> None:
    fake.hang_next(1)
    with GTTSEngine(base_url=fake.base_url, **{**FAST, "timeout": 0.2}) as engine:
        assert engine.synthesize("Lần hai.") == fake_speech("Lần hai.")
    assert len(fake.requests) == 2


def test_malformed_answer_is_retried_then_rejected(engine: GTTSEngine, fake: FakeGoogle) -> None:
    fake.malform_next(3)
    with pytest.raises(SynthesisRejected, match="no audio"):
        engine.synthesize("Không có tiếng.")
    assert len(fake.requests) == 3


def test_malformed_answer_once_then_success(engine: GTTSEngine, fake: FakeGoogle) -> None:
    fake.malform_next(1)
    assert engine.synthesize("Có tiếng.") == fake_speech("Có tiếng.")


def test_truncated_answer_is_retried_then_unavailable(engine: GTTSEngine, fake: FakeGoogle) -> None:
    fake.truncate_next(3)
    with pytest.raises(SynthesisUnavailable, match="cut short"):
        engine.synthesize("Bị cắt.")
    assert len(fake.requests) == 3


def test_truncated_then_dropped_then_success(engine: GTTSEngine, fake: FakeGoogle) -> None:
    fake.truncate_next(1)
    fake.drop_next(1)
    assert engine.synthesize("Lần ba.") == fake_speech("Lần ba.")
    assert [r.fault for r in fake.received] == ["truncated", "drop", None]


def test_last_failure_decides_the_error(engine: GTTSEngine, fake: FakeGoogle) -> None:
    """A final transient failure after answers without audio is still 'unavailable'."""
    fake.malform_next(2)
    fake.fail_next(1, status=503)
    with pytest.raises(SynthesisUnavailable):
        engine.synthesize("Lẫn lộn.")


@pytest.mark.parametrize(
    ("status", "error"), [(400, SynthesisRejected), (403, SynthesisUnavailable)]
)
def test_permanent_statuses_are_not_retried(
    engine: GTTSEngine, fake: FakeGoogle, status: int, error: type[Exception]
) -> None:
    fake.fail_next(1, status=status)
    with pytest.raises(error, match=str(status)):
        engine.synthesize("Một lần thôi.")
    assert len(fake.requests) == 1


def test_transient_failures_are_logged_without_the_text(
    engine: GTTSEngine, fake: FakeGoogle, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(1, status=503)
    with caplog.at_level(logging.INFO, logger="tts_service.engines.gtts_engine"):
        engine.synthesize("Bí mật quốc gia.")
    # Only this engine's records: threads other tests left behind may log at INFO too.
    mine = [r for r in caplog.records if r.name == "tts_service.engines.gtts_engine"]
    assert [r.levelno for r in mine] == [logging.WARNING]
    assert "Bí mật" not in caplog.text
    assert "HTTP 503" in caplog.text


# -- concurrency and connection reuse ----------------------------------------------------


def test_concurrent_callers_fill_the_pool_and_reuse_connections() -> None:
    texts = [f"Câu số {i}, đọc song song." for i in range(24)]
    with (
        FakeGoogle(latency=0.2) as fake,
        GTTSEngine(base_url=fake.base_url, concurrency=8, **FAST) as engine,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        results = list(pool.map(engine.synthesize, texts))
    assert results == [fake_speech(text) for text in texts]
    assert sorted(fake.requests) == sorted(texts)
    assert fake.max_in_flight == 8
    assert fake.connections <= 8


def test_pool_bounds_concurrency_below_the_callers() -> None:
    texts = [f"Đoạn {i}." for i in range(8)]
    with (
        FakeGoogle(latency=0.05) as fake,
        GTTSEngine(base_url=fake.base_url, concurrency=2, **FAST) as engine,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        list(pool.map(engine.synthesize, texts))
    assert fake.max_in_flight == 2
    assert fake.connections <= 2


# -- lifecycle and wiring ----------------------------------------------------------------


class _RetryLogged(logging.Handler):
    """Sets an event when the engine announces a retry: the engine is now backing off."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.event.set()


def test_close_cuts_a_backoff_short(fake: FakeGoogle) -> None:
    fake.fail_next(1, status=503, retry_after=30)
    engine = GTTSEngine(base_url=fake.base_url, **{**FAST, "backoff_max": 30.0})
    watcher = _RetryLogged()
    logger = logging.getLogger("tts_service.engines.gtts_engine")
    logger.addHandler(watcher)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            engine.synthesize("Đang chờ.")
        except SynthesisUnavailable as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    try:
        worker.start()
        assert watcher.event.wait(5)
        started = time.monotonic()
        engine.close()
        worker.join(5)
    finally:
        logger.removeHandler(watcher)
    assert not worker.is_alive()
    assert time.monotonic() - started < 2
    assert len(errors) == 1 and "closed" in str(errors[0])
    with pytest.raises(SynthesisUnavailable, match="closed"):
        engine.synthesize("Đã đóng.")


def test_a_given_client_is_used_and_left_open(fake: FakeGoogle) -> None:
    with httpx.Client() as client:
        engine = GTTSEngine(base_url=fake.base_url, client=client, **FAST)
        engine.synthesize("Của tôi.")
        engine.close()
        assert not client.is_closed


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _foreign_mp3() -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(44100)
    encoder.set_channels(2)
    encoder.set_bit_rate(128)
    return bytes(encoder.encode(bytes(44100 * 4 // 2)) + encoder.flush())


def _answer(audio_field: Any) -> bytes:
    line = json.dumps([["wrb.fr", "jQ1olc", audio_field, None, None, None, "generic"]])
    return f")]}}'\n\n{len(line)}\n{line}\n".encode()


@pytest.mark.parametrize(
    ("content", "error", "calls"),
    [
        # Valid base64, but of HTML: Google answered, the audio is unusable.
        (_answer(json.dumps([b64(b"<html>")])), SynthesisRejected, 3),
        # Base64 that does not decode: a damaged answer, worth retrying.
        (_answer(json.dumps(["@@not base64@@"])), SynthesisUnavailable, 3),
        # MP3 ending inside a frame: cut in transit, worth retrying.
        (_answer(json.dumps([b64(fake_speech("x")[:-10])])), SynthesisUnavailable, 3),
        # Real MP3, but 44.1 kHz stereo 128 kbps: it would not concatenate with the rest.
        (_answer(json.dumps([b64(_foreign_mp3())])), SynthesisRejected, 3),
        # A 200 that is not an RPC answer at all (an interstitial page).
        (b"<html>consent</html>", SynthesisUnavailable, 3),
    ],
)
def test_unusable_answers_through_a_mock_transport(
    content: bytes, error: type[Exception], calls: int
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=content)

    with GTTSEngine(transport=httpx.MockTransport(handler), **FAST) as engine:
        with pytest.raises(error):
            engine.synthesize("Xin chào.")
    assert len(seen) == calls
    assert seen[0].url == "https://translate.google.com" + BATCHEXECUTE_PATH


def test_gtts_regex_fallback_reads_a_non_json_line() -> None:
    """A jQ1olc line that isn't plain JSON is still read the way gTTS reads it."""
    audio = fake_speech("x")
    content = f')]}}\'\n\n123[["wrb.fr","jQ1olc","[\\"{b64(audio)}\\"]",null]]'.encode()
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, content=content))
    with GTTSEngine(transport=transport, **FAST) as engine:
        assert engine.synthesize("x") == audio


def test_http_date_retry_after_is_understood() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
            httpx.Response(200, content=_answer(json.dumps([b64(fake_speech("x"))]))),
        ]
    )
    transport = httpx.MockTransport(lambda _request: next(answers))
    # A date in the past means "now": no wait, then success.
    with GTTSEngine(transport=transport, **{**FAST, "backoff_max": 30.0}) as engine:
        started = time.monotonic()
        assert engine.synthesize("x") == fake_speech("x")
        assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "kwargs",
    [{"base_url": "ftp://example.com"}, {"concurrency": 0}, {"timeout": 0}, {"retries": -1}],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        GTTSEngine(**kwargs)
