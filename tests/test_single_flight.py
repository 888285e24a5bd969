"""Single flight between two services on one cache directory, coordinating through SQLite.

The same paths as two processes (tests/test_cluster.py runs those for real), in one: a
service that finds the article claimed follows the stored chunks, and takes the article
over when its maker stops renewing the claim, asking the engine only for what is missing.
"""

from __future__ import annotations

import threading

import pytest

from tests.helpers import assert_whole_audio, text_tone
from tts_service.cache import AudioCache
from tts_service.coordination.runtime import Coordination
from tts_service.jobs import JobState
from tts_service.settings import Settings
from tts_service.storage.database import open_engine
from tts_service.synthesis import SpeechService
from tts_service.testing import FakeEngine

SENTENCES = [
    "Sáng nay, Hội đồng nhân dân tỉnh khai mạc kỳ họp thứ bảy.",
    "Các đại biểu thảo luận về tình hình kinh tế xã hội trong quý một.",
    "Tỉnh đã hoàn thành nhiều công trình giao thông quan trọng.",
    "Nhiều doanh nghiệp mới được thành lập trong các khu công nghiệp.",
    "Kỳ họp sẽ kéo dài trong ba ngày làm việc liên tiếp.",
]
ARTICLE = " ".join(SENTENCES)
TTL = 1.0


@pytest.fixture
def pair(tmp_path):
    """Two services (two "processes") on one cache directory and one SQLite database."""
    built: list[SpeechService] = []

    def build(engine: FakeEngine) -> SpeechService:
        settings = Settings(cache_dir=tmp_path / "cache", engine=("espeak",))
        database = open_engine(f"sqlite:///{tmp_path / 'coordination.sqlite3'}")
        coordination = Coordination.over(database, lease_ttl_s=TTL, poll_s=0.05)
        service = SpeechService(
            settings,
            engines={engine.name: engine},
            cache=AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes),
            coordination=coordination,
        )
        built.append(service)
        return service

    yield build
    for service in built:
        service.close(timeout=10)


def test_a_follower_takes_over_from_a_maker_that_stopped_asking_only_what_is_missing(pair):
    reached, gate = threading.Event(), threading.Event()

    def stalls_on_the_third(text: str) -> bytes:
        if text == SENTENCES[2]:
            reached.set()
            gate.wait(30)
        return text_tone(text)

    maker_engine = FakeEngine(stalls_on_the_third)
    follower_engine = FakeEngine(text_tone)
    maker, follower = pair(maker_engine), pair(follower_engine)
    try:
        started = maker.read(text=ARTICLE)
        assert reached.wait(30)
        followed = follower.read(text=ARTICLE)
        assert followed.id == started.id
        job = follower.job(followed.id)
        assert job is not None
        # The maker "dies": nothing renews its claims any more; they run out after TTL.
        maker.coordination.keeper.close()
        assert job.wait(30)
        assert job.state is JobState.READY, job.error
        # The two stored chunks were reused; the one in flight and the rest were asked.
        assert maker_engine.calls == SENTENCES[:3]
        assert follower_engine.calls == SENTENCES[2:]
        stored = follower.stored(followed.id)
        assert stored is not None
        assert_whole_audio(follower.cache.read_mp3(stored), job.duration)
    finally:
        gate.set()


def test_a_follower_streams_what_the_maker_stores_and_asks_the_engine_nothing(pair):
    gate = threading.Event()

    def waits_for_the_gate(text: str) -> bytes:
        gate.wait(30)
        return text_tone(text)

    maker_engine = FakeEngine(waits_for_the_gate)
    follower_engine = FakeEngine(text_tone)
    maker, follower = pair(maker_engine), pair(follower_engine)
    started = maker.read(text=ARTICLE)
    followed = follower.read(text=ARTICLE)
    job = follower.job(followed.id)
    assert job is not None and job.state is JobState.PENDING
    gate.set()
    assert job.wait(30) and job.state is JobState.READY, job.error
    maker_job = maker.job(started.id)
    assert maker_job is not None and maker_job.wait(30)
    assert follower_engine.calls == []
    assert sorted(maker_engine.calls) == sorted(SENTENCES)
    # The follower's listeners heard exactly what the maker's did.
    assert b"".join(follower.audio_parts(job)) == b"".join(maker.audio_parts(maker_job))
