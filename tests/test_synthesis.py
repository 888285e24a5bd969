from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import assert_whole_audio, text_tone
from tts_service.audio.mp3 import duration_seconds
from tts_service.cache import AudioCache
from tts_service.errors import (
    EmptyTextError,
    SynthesisUnavailable,
    TextTooLongError,
    UnknownEngineError,
)
from tts_service.jobs import JobState
from tts_service.testing import FakeEngine

ARTICLE = (
    "Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, Cụm thi đua tổ chức hội nghị. "
    "Tới dự có đồng chí Nguyễn Thu Hoài, Trưởng Ban thi đua, khen thưởng Sở Nội vụ.\n"
    "Hội nghị đã thảo luận đánh giá kết quả đạt được."
)


def finish(service, result):
    job = service.job(result.id)
    if job is not None:
        assert job.wait(30)
    return service.find(result.id)


def failing(name, exc=None):
    def handler(_text):
        raise exc or SynthesisUnavailable("Google is down")

    return FakeEngine(handler, name=name)


def test_reads_an_article_and_stores_mp3_and_vtt(make_service):
    engine = FakeEngine(text_tone, name="fake")
    service = make_service(engine)
    first = service.read(text=ARTICLE, title="Hội nghị")
    assert first.status in (JobState.PENDING, JobState.READY)
    done = finish(service, first)
    assert done.status is JobState.READY and done.engine == "fake"
    stored = service.stored(first.id)
    mp3 = service.cache.read_mp3(stored)
    assert_whole_audio(mp3, done.duration_s)
    assert abs(duration_seconds(mp3) - done.duration_s) < 0.001
    vtt = service.cache.read_vtt(stored)
    assert vtt.count(" --> ") == 3
    assert "Hội nghị đã thảo luận đánh giá kết quả đạt được." in vtt
    again = service.read(text=ARTICLE, title="Hội nghị")
    assert again.status is JobState.READY and again.id == first.id
    assert len(engine.calls) == len(set(engine.calls))


def test_concurrent_identical_requests_synthesise_each_chunk_once(make_service):
    gate = threading.Event()

    def slow(text):
        gate.wait(10)
        return text_tone(text)

    engine = FakeEngine(slow, name="fake", concurrency=4)
    service = make_service(engine)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: service.read(text=ARTICLE), range(16)))
    gate.set()
    assert len({r.id for r in results}) == 1
    assert finish(service, results[0]).status is JobState.READY
    assert len(engine.calls) == len(set(engine.calls))


def test_an_edit_resynthesises_only_the_changed_sentence(make_service):
    engine = FakeEngine(text_tone, name="fake")
    service = make_service(engine)
    finish(service, service.read(text=ARTICLE))
    before = len(engine.calls)
    edited = ARTICLE.replace("đánh giá kết quả", "đánh giá những kết quả")
    finish(service, service.read(text=edited))
    new_calls = engine.calls[before:]
    assert len(new_calls) == 1 and "những kết quả" in new_calls[0]


def test_falls_back_when_the_primary_keeps_failing(make_service):
    backup = FakeEngine(text_tone, name="backup")
    service = make_service(failing("primary"), backup)
    result = service.read(text=ARTICLE)
    done = finish(service, result)
    assert done.status is JobState.READY and done.engine == "backup"
    # The fallback audio is kept under the fallback's own key, not as the primary's.
    assert service.cache.get_article(result.id) is None
    stored = service.stored(result.id)
    assert stored.key != result.id and stored.meta["engine"] == "backup"


def test_a_voice_change_midway_keeps_the_article_as_it_was_streamed(make_service):
    def gives_up_on_the_last_sentence(text):
        if "Hội nghị đã" in text:
            raise SynthesisUnavailable("Google gave up")
        return text_tone(text)

    backup = FakeEngine(lambda text: text_tone(text + text), name="backup")
    service = make_service(FakeEngine(gives_up_on_the_last_sentence, name="primary"), backup)
    result = service.read(text=ARTICLE)
    done = finish(service, result)
    assert done.status is JobState.READY and done.engine == "backup"
    job = service.job(result.id)
    stored = service.stored(result.id)
    # What listeners streamed is what the id serves from now on, byte for byte, under a key
    # of its own: the audio is neither all the primary's nor all the fallback's.
    streamed = b"".join(service.audio_parts(job))
    assert service.cache.read_mp3(stored) == streamed
    assert stored.key not in (result.id, job.plans[1].key)
    assert stored.meta["engines"] == ["primary", "backup"]
    assert_whole_audio(streamed, done.duration_s)
    assert service.cache.read_vtt(stored).count(" --> ") == 3
    # The fallback read only the sentence the primary could not: nothing was read twice.
    assert len(backup.calls) == 1 and "Hội nghị đã" in backup.calls[0]


def test_all_engines_failing_is_unavailable_and_caches_nothing(make_service):
    service = make_service(failing("a"), failing("b"))
    result = service.read(text=ARTICLE)
    done = finish(service, result)
    assert done.status is JobState.FAILED and done.retry_after
    assert service.stored(result.id) is None
    assert list((service.cache.root / "articles").glob("*/*")) == []


def test_bad_input_is_refused_with_input_errors(make_service):
    service = make_service(FakeEngine(text_tone, name="fake"), max_text_chars=50)
    with pytest.raises(EmptyTextError):
        service.read(text="  \n\t ")
    with pytest.raises(TextTooLongError):
        service.read(text="a" * 51)
    with pytest.raises(UnknownEngineError):
        service.read(text="xin chào", engine="nope")
    with pytest.raises(UnknownEngineError):
        service.read(text="xin chào", voice="en")


def test_close_waits_for_running_work_before_closing_the_cache(make_service, caplog):
    # A chunk an engine is reading when the service stops is still written to the cache,
    # and its job stores the article: nothing writes to a closed index.
    gate, reading = threading.Event(), threading.Event()
    busy = []

    def held(text):
        busy.append(text)
        reading.set()
        assert gate.wait(30)
        audio = text_tone(text)
        busy.remove(text)
        return audio

    service = make_service(FakeEngine(held, name="fake"))
    result = service.read(text="Hội nghị đã thảo luận.")
    assert reading.wait(30)
    shutdown, close_cache = service._runner.shutdown, service.cache.close
    at_close = []

    def shutdown_then_release(**kwargs):
        shutdown(**kwargs)
        gate.set()  # the engine answers while the service is stopping

    def record_then_close():
        at_close.append((list(busy), service.job(result.id).state))
        close_cache()

    service._runner.shutdown = shutdown_then_release
    service.cache.close = record_then_close
    with caplog.at_level(logging.WARNING, logger="tts_service"):
        service.close()
    assert at_close == [([], JobState.READY)]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    reopened = AudioCache(service.cache.root, max_bytes=10**9)
    try:
        article = reopened.get_article(result.id)
        assert article is not None
        assert duration_seconds(reopened.read_mp3(article)) == article.meta["duration_s"]
    finally:
        reopened.close()
