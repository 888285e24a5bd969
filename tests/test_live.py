"""Streams follow the stored chunks: no job or stream holds an article's audio in memory."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import decode_seconds, tone_mp3
from tts_service.jobs import JobState
from tts_service.live import follow
from tts_service.testing import FakeEngine

# Ten seconds of tone a chunk (about 40 KB): the audio dwarfs the text and the bookkeeping.
TONE = tone_mp3(10.0)
SENTENCE = "Câu số {n} của bản tin sáng nay về giao thông và thời tiết ở Lạng Sơn."


def article(sentences: int) -> str:
    # Longer than half the engine's 100 characters: one chunk per sentence.
    return " ".join(SENTENCE.format(n=n) for n in range(sentences))


async def _listen(job, reader) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    async for part in follow(job, reader, timeout=60):
        digest.update(part)
        size += len(part)
    return digest.hexdigest(), size


def read_and_listen(service, sentences: int) -> tuple[int, int, int]:
    """Read an article with a listener following it; peak and retained traced memory
    during and after, and the article's size. The text is planned before tracing."""
    plans = service.plan(
        service.normalize(article(sentences)), title=None, chain=service.chain(None)
    )
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    job = service.start(plans)
    # A loop of its own in a thread of its own: other tests (the browser's) may leave one
    # running in this thread.
    with ThreadPoolExecutor(1) as pool:
        streamed, size = pool.submit(asyncio.run, _listen(job, service.chunk_reader(job))).result()
    assert job.wait(60) and job.state is JobState.READY
    peak = tracemalloc.get_traced_memory()[1] - before
    stored = service.stored(job.id)
    data = service.cache.read_mp3(stored)
    # The listener heard exactly the stored file.
    assert hashlib.sha256(data).hexdigest() == streamed and len(data) == size == job.size
    assert abs(decode_seconds(data) - float(stored.meta["duration_s"])) < 0.1
    del data, stored
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    return peak, retained, size


def test_memory_does_not_grow_with_the_article(make_service):
    engine = FakeEngine(lambda text: TONE, name="fake", concurrency=2)
    service = make_service(engine)
    read_and_listen(service, 3)  # warm caches (silence frames, normaliser, the loop)
    tracemalloc.start()
    try:
        small = read_and_listen(service, 10)
        large = read_and_listen(service, 40)
    finally:
        tracemalloc.stop()
    audio_growth = large[2] - small[2]
    assert audio_growth > 30 * len(TONE)
    # Four times the chunks: the job and its listener hold a few chunks at a time, the
    # bookkeeping (keys, pauses) is bytes per chunk. Holding the audio would add at least
    # the article's growth to the peak, and keep it after.
    assert large[0] - small[0] < audio_growth / 4, (small, large)
    assert large[1] - small[1] < audio_growth / 20, (small, large)


def test_a_chunk_evicted_before_a_listener_reads_it_is_read_again(make_service):
    # 40 chunks of 20 KB, and the article again: twice what a 1 MiB cache keeps, so most
    # chunks are evicted as soon as the article is stored.
    tone = tone_mp3(5.0)
    engine = FakeEngine(lambda text: tone, name="fake", concurrency=2)
    service = make_service(engine, cache_max_bytes=1024 * 1024)
    plans = service.plan(service.normalize(article(40)), title=None, chain=service.chain(None))
    job = service.start(plans)
    assert job.wait(60) and job.state is JobState.READY
    stored = service.stored(job.id)
    data = service.cache.read_mp3(stored)
    evicted = sum(not service.cache.has_chunk(pc.key) for pc in plans[0].chunks)
    assert evicted > 10
    calls = len(engine.calls)
    # A listener who comes now (the job is still in memory) follows its chunks.
    streamed = b"".join(service.audio_parts(job))
    assert streamed == data
    # Every chunk was read again: each one read back into the full cache evicts the oldest
    # chunk still there, which is always one the listener has not reached yet.
    assert len(engine.calls) == calls + 40
