"""Read articles aloud: plan, reuse cached audio, synthesise the rest once, assemble, store.

``SpeechService`` is what the API and the CLI call. Requests for audio that is neither
cached nor being made start a :class:`~tts_service.jobs.Job`; identical requests join it
(single flight), and chunks shared by several articles are synthesised once too.

Engines are tried in the configured order (``TTS_ENGINE=gtts,espeak``). When the primary
engine keeps failing after its own retries, the chunks not yet streamed are read by the
next engine. The article is then stored under another key — the fallback engine's when it
read everything, else a key of its own for the mixed stream exactly as listeners heard it —
never as if it were gTTS audio; the primary id points at it only for
``TTS_FALLBACK_TTL_S``, after which a request tries Google again.

Single flight holds across processes too (docs/cluster.md, 1.4-1.5): the process that
makes an article holds the lease ``article:<key>``, and the one that asks the engine for
a chunk holds ``chunk:<key>``, both renewed while the work runs. A process that finds the
article claimed by another *follows* it: it streams the chunks as they are stored
(woken by the ``chunks`` notifications, looking at the store itself every
``TTS_FOLLOW_POLL_S``), and takes the article over when the maker's lease runs out,
reusing every chunk already stored. With the in-memory coordination of one process the
claims always succeed, and nothing changes.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial

from tts_service import __version__, textwork
from tts_service.audio.assemble import Assembler
from tts_service.audio.convert import to_house_format
from tts_service.audio.vtt import render_vtt
from tts_service.cache import AudioCache, CachedArticle
from tts_service.coordination.keeper import Claim
from tts_service.coordination.runtime import ARTICLES, CHUNKS, Coordination
from tts_service.engines.base import SpeechEngine, is_available
from tts_service.errors import (
    AudioFormatError,
    CacheError,
    EmptyTextError,
    ForbiddenTarget,
    SynthesisError,
    SynthesisRejected,
    SynthesisUnavailable,
    TextTooLongError,
    UnknownEngineError,
)
from tts_service.extract import Article
from tts_service.fetch import FetchedPage, check_target, fetch_page
from tts_service.isolation import InProcess, Isolation
from tts_service.jobs import Job, JobProgress, JobState
from tts_service.lanes import Lane, LaneExecutor, Ticket
from tts_service.live import ChunkReader, Piece, assemble
from tts_service.observability.metrics import ServiceMetrics
from tts_service.planning import ArticlePlan, Pauses, PlannedChunk, digest, plan_article
from tts_service.settings import Settings
from tts_service.text.lexicon import Lexicon
from tts_service.text.model import Document
from tts_service.text.pipeline import NORMALIZER_VERSION

__all__ = ["Fetcher", "ReadResult", "SpeechService"]

#: Fetches a page: ``fetch_page`` with its limits bound; tests bind a loopback resolver.
Fetcher = Callable[..., FetchedPage]

logger = logging.getLogger(__name__)

# How long a failed article answers 503 before a new request may try again.
FAILED_RETRY_AFTER_S = 30.0
# How long a finished job is kept in memory, so a stream that is still draining, or an
# article the disk could not store, can be served from its chunks.
FINISHED_GRACE_S = 120.0


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What the read endpoint answers: where the audio is and what state it is in."""

    id: str
    status: JobState
    engine: str
    duration_s: float | None
    chars: int
    title: str | None = None
    retry_after: float | None = None
    # While the article waits for its first chunk: its place among those waiting (1: next).
    queue_position: int | None = None


def reserved_for_listeners(concurrency: int) -> int:
    """Engine threads background jobs leave free: a quarter, at least one (if there are two).

    With gTTS's 8 a back catalogue uses 6 and a new listener finds 2 idle; eSpeak's 2 on a
    2-core machine are split 1 and 1.
    """
    return max(1, concurrency // 4) if concurrency > 1 else 0


class _ClaimLost(Exception):
    """Raised when the article's claim was lost (taken over by another process)."""


class ChunkSource:
    """Chunk audio from the cache, or from its engine exactly once at a time per key.

    Chunks wait for an engine thread in their job's lane (:mod:`tts_service.lanes`):
    a listener's go ahead of every queued background chunk.
    """

    def __init__(
        self,
        cache: AudioCache,
        engines: dict[str, SpeechEngine],
        *,
        metrics: ServiceMetrics | None = None,
        coordination: Coordination | None = None,
    ) -> None:
        self._cache = cache
        self._coordination = coordination if coordination is not None else Coordination.local()
        self._closing = threading.Event()
        self._metrics = metrics if metrics is not None else ServiceMetrics()
        self._executors = {
            name: LaneExecutor(
                max(1, engine.concurrency),
                reserved=reserved_for_listeners(engine.concurrency),
                name=f"tts-{name}",
            )
            for name, engine in engines.items()
        }
        self._inflight: dict[str, tuple[Future[bytes], Ticket, LaneExecutor]] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        engine: SpeechEngine,
        planned: PlannedChunk,
        voice: str,
        lane: Lane = Lane.LISTENER,
        group: Hashable = None,
    ) -> Future[bytes]:
        """A future of the chunk's house-format frames; cached audio resolves at once.

        A listener asking for a chunk already queued for a background job promotes it.
        ``group`` is the article it is for: articles take turns for engine threads.
        """
        cached = self._cache.get_chunk(planned.key)
        self._metrics.chunk_lookup(hit=cached is not None)
        if cached is not None:
            done: Future[bytes] = Future()
            done.set_result(cached)
            return done
        with self._lock:
            running = self._inflight.get(planned.key)
            if running is not None:
                future, ticket, executor = running
                if lane is Lane.LISTENER:
                    executor.promote(ticket)
                return future
            executor = self._executors[engine.name]
            future, ticket = executor.submit(
                partial(self._synthesize, engine, planned, voice), lane, group=group
            )
            self._inflight[planned.key] = (future, ticket, executor)
        future.add_done_callback(lambda _: self._forget(planned.key))
        return future

    def promote(self, keys: Iterable[str]) -> None:
        """Serve the chunks of ``keys`` still queued or running as a listener's."""
        with self._lock:
            for key in keys:
                running = self._inflight.get(key)
                if running is not None:
                    running[2].promote(running[1])

    def queued(self) -> dict[tuple[str, Lane], int]:
        """Chunks waiting for an engine thread, by engine and lane (for metrics)."""
        return {
            (name, lane): executor.queued(lane)
            for name, executor in self._executors.items()
            for lane in Lane
        }

    def _forget(self, key: str) -> None:
        with self._lock:
            self._inflight.pop(key, None)

    def _claim(self, key: str) -> Claim | bytes:
        """The claim on chunk ``key``, or its audio once another process stored it.

        While another process holds the claim, this engine thread waits for the chunk to
        be stored (woken by its notification, looking every ``poll_s``), or for the claim
        to run out (that process died): then it claims the chunk itself.
        """
        name = f"chunk:{key}"
        keeper = self._coordination.keeper
        claim = keeper.claim(name)
        if claim is not None:
            return claim
        with self._coordination.notifier.subscribe(CHUNKS) as stored:
            while True:
                frames = self._cache.get_chunk(key)
                if frames is not None:
                    return frames
                claim = keeper.claim(name)
                if claim is not None:
                    return claim
                if self._closing.is_set():
                    raise SynthesisUnavailable("Dịch vụ đang dừng (the service is shutting down).")
                stored.wait(self._coordination.poll_s)

    def _synthesize(self, engine: SpeechEngine, planned: PlannedChunk, voice: str) -> bytes:
        claim = self._claim(planned.key)
        if isinstance(claim, bytes):
            return claim
        try:
            # A process that died just after storing it left it here for us.
            stored = self._cache.get_chunk(planned.key) if self._coordination.shared else None
            return stored if stored is not None else self._ask(engine, planned, voice)
        finally:
            self._coordination.keeper.release(claim)

    def _ask(self, engine: SpeechEngine, planned: PlannedChunk, voice: str) -> bytes:
        """The engine's audio for ``planned``, stored and announced to other processes."""
        with self._metrics.chunk_synthesis(engine.name):
            data = engine.synthesize(planned.chunk.text, voice=voice)
            try:
                frames = to_house_format(data)
            except AudioFormatError as exc:
                raise SynthesisRejected(f"{engine.name} returned unusable audio: {exc}") from exc
            if not frames:
                raise SynthesisRejected(f"{engine.name} returned no audio")
        try:
            self._cache.put_chunk(planned.key, frames)
        except CacheError as exc:
            # The listener still gets the audio; it just is not kept.
            logger.warning("chunk %s not cached: %s", planned.key, exc)
        else:
            self._coordination.notifier.notify(CHUNKS, planned.key)
        return frames

    def close(self, timeout: float | None = None) -> bool:
        """Stop the engine workers: queued chunks are dropped, the ones an engine is reading
        are waited for (``timeout``); True when none is still running."""
        self._closing.set()
        for executor in self._executors.values():
            executor.shutdown(cancel_futures=True)
        with self._lock:
            running = [future for future, _, _ in self._inflight.values()]
        return not wait(running, timeout).not_done


class SpeechService:
    """Plans, synthesises, stores and finds articles' audio."""

    def __init__(
        self,
        settings: Settings,
        *,
        engines: dict[str, SpeechEngine],
        cache: AudioCache,
        lexicon: Lexicon | None = None,
        fetcher: Fetcher = fetch_page,
        metrics: ServiceMetrics | None = None,
        isolation: Isolation | None = None,
        coordination: Coordination | None = None,
    ) -> None:
        """``isolation`` runs extraction, normalisation and chunking of request text: the
        served app passes a :class:`~tts_service.isolation.WorkerPool`; by default the work
        runs in the caller's thread (the CLI, tests). ``coordination`` is how this process
        shares single flight with others (:mod:`tts_service.coordination.runtime`; the
        service closes it); in memory, for this process alone, by default."""
        if not engines:
            raise UnknownEngineError("no speech engine is configured")
        self.settings = settings
        self.engines = engines
        self.cache = cache
        self.lexicon = lexicon if lexicon is not None else Lexicon.load(settings.site_lexicon)
        self.isolation: Isolation = isolation if isolation is not None else InProcess()
        self._lexicon_state = textwork.LexiconState.of(self.lexicon)
        self.pauses = Pauses(settings.sentence_pause_ms, settings.paragraph_pause_ms)
        self._fetch = partial(
            fetcher,
            allowed_hosts=settings.fetch_allowed_hosts,
            max_bytes=settings.fetch_max_bytes,
            timeout=settings.fetch_timeout_s,
            max_redirects=settings.fetch_max_redirects,
        )
        # Metrics on a registry of their own unless the app hands in the one it serves.
        self.metrics = metrics if metrics is not None else ServiceMetrics()
        self.coordination = (
            coordination
            if coordination is not None
            else Coordination.local(lease_ttl_s=settings.lease_ttl_s, poll_s=settings.follow_poll_s)
        )
        self._source = ChunkSource(
            cache, engines, metrics=self.metrics, coordination=self.coordination
        )
        self._closing = threading.Event()
        # A thread per job: as many as listeners may start, plus the registry's workers, so
        # a background job never keeps a listener's job from starting.
        self._runner = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_jobs + settings.workers,
            thread_name_prefix="tts-job",
        )
        self._jobs: dict[str, Job] = {}
        self._admitted = itertools.count(1)
        # Re-entrant: ``start`` calls its ``admit`` hook under the lock (so the job cap and
        # the job's registration are one step), and the hook may read ``pending_jobs``.
        self._lock = threading.RLock()

    def set_lexicon(self, lexicon: Lexicon) -> None:
        """Read with ``lexicon`` from now on (editors changed the site lexicon).

        Articles already cached keep their audio: their request keys include the old
        lexicon's fingerprint, so a new request is normalised afresh, and audio whose
        spoken text did not change is found again under the same article key.
        """
        self.lexicon = lexicon
        self._lexicon_state = textwork.LexiconState.of(lexicon)

    def warm_up(self) -> None:
        """Load the normaliser's models and data now, not on the first listener's request.

        A worker pool starts its processes here; each warms itself as it starts.
        """
        self.isolation.start()
        self.normalize("Ngày 09/7/2021, UBND tỉnh họp lần thứ XVI.")

    # -- planning ----------------------------------------------------------------------

    def chain(self, engine: str | None) -> tuple[SpeechEngine, ...]:
        """Engines to try, in order: the requested one first, then its configured fallbacks."""
        names = list(self.engines)
        if engine is not None:
            if engine not in self.engines:
                raise UnknownEngineError(
                    f"Không có giọng đọc '{engine}' (unknown engine '{engine}'); "
                    f"available: {', '.join(names)}."
                )
            names = names[names.index(engine) :]
        return tuple(self.engines[name] for name in names)

    def check_voice(self, chain: tuple[SpeechEngine, ...], voice: str | None) -> None:
        """Refuse a voice the primary engine does not have."""
        if voice is not None and voice != chain[0].voice:
            raise UnknownEngineError(
                f"Giọng '{voice}' không có (unknown voice '{voice}'); "
                f"engine {chain[0].name} has voice '{chain[0].voice}'."
            )

    def extract(
        self,
        *,
        text: str | None,
        html: str | None,
        selector: str | None = None,
        url: str | None = None,
    ) -> Article:
        """The article to read: scraped text without its portal chrome, or a page's article.

        Refuses empty input (422) and input over ``TTS_MAX_TEXT_CHARS`` (413); HTML may be
        four times larger than that, since its markup is not read.
        """
        raw = text if text is not None else (html or "")
        limit = self.settings.max_text_chars
        raw_limit = limit * 4 if html is not None else limit
        if len(raw) > raw_limit:
            raise TextTooLongError(len(raw), raw_limit)
        if not raw.strip():
            raise EmptyTextError("Văn bản trống: không có gì để đọc (the text is empty).")
        # In a worker under TTS_TEXT_DEADLINE_S when served (TextTooComplex past it).
        article = self.isolation.call(textwork.extract, text, html, selector, url)
        if not article.text.strip():
            raise EmptyTextError("Không tìm thấy nội dung bài viết để đọc (no article text found).")
        if len(article.text) > limit:
            raise TextTooLongError(len(article.text), limit)
        return article

    def normalize(self, source: str) -> Document:
        """Normalise ``source`` with the site lexicon; refuse text with nothing to say."""
        # The lexicon travels with the text: a worker reads with the current one.
        lexicon = self._lexicon_state
        if lexicon.fingerprint != self.lexicon.fingerprint:  # set_lexicon ran in between
            lexicon = textwork.LexiconState.of(self.lexicon)
        document = self.isolation.call(textwork.normalize_text, source, lexicon)
        if not any(s.spoken.strip() for s in document.sentences):
            raise EmptyTextError(
                "Văn bản không có nội dung đọc được (nothing in the text can be read aloud)."
            )
        return document

    def plan(
        self,
        document: Document,
        *,
        title: str | None,
        chain: tuple[SpeechEngine, ...],
        voice: str | None = None,
    ) -> tuple[ArticlePlan, ...]:
        """One plan per engine of the chain, all with the same chunks."""
        limit = min(engine.max_chars for engine in chain)
        chunks = self.isolation.call(textwork.chunk, document, limit)
        return tuple(
            plan_article(
                document,
                engine=engine,
                title=title,
                pauses=self.pauses,
                limit=limit,
                voice=voice if i == 0 else None,
                chunks=chunks,
            )
            for i, engine in enumerate(chain)
        )

    def _request_key(self, **parts: object) -> str:
        return digest(
            {
                "service": __version__,
                "normalizer": NORMALIZER_VERSION,
                "lexicon": self.lexicon.fingerprint,
                "pauses": [self.pauses.sentence_ms, self.pauses.paragraph_ms],
                **parts,
            }
        )

    # -- reading -----------------------------------------------------------------------

    def read(
        self,
        *,
        text: str | None = None,
        html: str | None = None,
        title: str | None = None,
        engine: str | None = None,
        voice: str | None = None,
        selector: str | None = None,
        source_url: str | None = None,
        admit: Callable[[], None] | None = None,
        charge: Callable[[], None] | None = None,
        client: str | None = None,
    ) -> ReadResult:
        """Answer a read request: cached audio at once, else start (or join) its job.

        ``charge`` is called before the text of a request not seen before is processed
        (not for a repeat); ``admit`` right before a *new* job would start (not for cached
        audio or a running job). Either refuses by raising, e.g. when the caller's budget
        is spent (``charge``) or the server is full (``admit``). ``client`` is who asks: a
        job it starts counts against its share.
        """
        chain = self.chain(engine)
        self.check_voice(chain, voice)
        request_key = self._request_key(
            text=text,
            html=html,
            selector=selector,
            title=title,
            chain=[e.name for e in chain],
            voice=voice,
        )
        known = self.cache.get_alias(request_key)
        if known is not None:
            found = self.find(known)
            if found is not None:
                self.metrics.article_lookup(hit=found.status is JobState.READY)
                return found
        if charge is not None:
            charge()
        article = self.extract(text=text, html=html, selector=selector, url=source_url)
        plans = self.plan(
            self.normalize(article.text), title=title or article.title, chain=chain, voice=voice
        )
        # The next identical request skips extraction and normalisation: it finds the
        # article (or its job, or its fallback) under this alias.
        self.cache.set_alias(request_key, plans[0].key)
        job = self.start(plans, admit=admit, client=client)
        if job is None:
            found = self.find(plans[0].key)
            if found is not None:
                self.metrics.article_lookup(hit=True)
                return found
            raise SynthesisUnavailable("the article vanished from the cache; try again")
        self.metrics.article_lookup(hit=False)
        return self._job_result(job)

    def fetch_article(self, url: str, *, selector: str | None = None) -> Article:
        """Fetch a page from an allowed host and extract its article (for the preview)."""
        self.check_url_reading(url)
        page = self._fetch(url)
        return self.extract(text=None, html=page.html, selector=selector, url=page.final_url)

    def check_url_reading(self, url: str) -> None:
        """Refuse (403) a URL this service will never fetch: reading by URL is off, or the
        URL's scheme or host is not allowed. Nothing is fetched or resolved."""
        if not self.settings.fetch_allowed_hosts:
            raise ForbiddenTarget(
                "Dịch vụ chưa cho phép đọc theo địa chỉ trang (reading by URL is not enabled: "
                "set TTS_FETCH_ALLOWED_HOSTS).",
                url=url,
            )
        check_target(url, allowed_hosts=self.settings.fetch_allowed_hosts)

    def read_url(
        self,
        url: str,
        *,
        selector: str | None = None,
        engine: str | None = None,
        voice: str | None = None,
        admit: Callable[[], None] | None = None,
        charge: Callable[[], None] | None = None,
        client: str | None = None,
    ) -> ReadResult:
        """Fetch a page from an allowed host, extract its article and read it.

        A page read before is asked for with its ETag / Last-Modified; when the site says it
        has not changed, the audio made from it last time answers at once. ``admit`` and
        ``charge`` and ``client`` are as for :meth:`read`; a page not read before is charged
        before it is fetched (``charge`` must then be a no-op the second time, see
        ``ReadGuard.charge``).
        """
        self.check_url_reading(url)
        chain = self.chain(engine)
        self.check_voice(chain, voice)
        # The page's validators are remembered per way of reading it: with another engine
        # chain, voice, normaliser or lexicon, the same unchanged page is other audio. Keyed
        # by the URL alone, one ``engine: "espeak"`` request would answer every later plain
        # link with eSpeak for as long as the page answers 304.
        reading = self._request_key(
            page=url, selector=selector, chain=[e.name for e in chain], voice=voice
        )
        known = self.cache.get_page(url, reading)
        if known is not None:
            page = self._fetch(url, etag=known[0], last_modified=known[1])
            if page.not_modified:
                found = self.find(known[2])
                if found is not None:
                    self.metrics.article_lookup(hit=found.status is JobState.READY)
                    return found
                page = self._fetch(url)  # the audio was evicted: read the page afresh
        else:
            if charge is not None:
                charge()
            page = self._fetch(url)
        result = self.read(
            html=page.html,
            selector=selector,
            source_url=page.final_url,
            engine=engine,
            voice=voice,
            admit=admit,
            charge=charge,
            client=client,
        )
        self.cache.set_page(
            url, reading, etag=page.etag, last_modified=page.last_modified, article=result.id
        )
        return result

    def find(self, article_id: str) -> ReadResult | None:
        """The state of an article id: cached, being read, failed, or ``None`` if unknown."""
        self._prune()
        with self._lock:
            job = self._jobs.get(article_id)
        if job is not None and job.state is not JobState.READY:
            return self._job_result(job)
        stored = self.stored(article_id)
        if stored is not None:
            meta = stored.meta
            return ReadResult(
                id=article_id,
                status=JobState.READY,
                engine=str(meta["engine"]),
                duration_s=float(meta["duration_s"]),
                chars=int(meta["chars"]),
                title=meta.get("title"),
            )
        if job is not None:
            return self._job_result(job)
        return None

    def stored(self, article_id: str) -> CachedArticle | None:
        """The cached article for an id, following a fallback alias if there is one.

        An article finished while the disk was full is written now, from its chunks, if the
        disk takes it: once space returns it is served as a static, seekable file again.
        """
        article = self.cache.get_article(article_id)
        if article is not None:
            return article
        with self._lock:
            job = self._jobs.get(article_id)
        if job is not None and job.retry_store is not None and job.retry_store():
            job.retry_store = None
            article = self.cache.get_article(job.result_key or article_id)
            if article is not None:
                return article
        target = self.cache.get_alias(article_id)
        return self.cache.get_article(target) if target else None

    def job(self, article_id: str) -> Job | None:
        """The in-memory job of an article, if one is running or recently finished."""
        self._prune()
        with self._lock:
            return self._jobs.get(article_id)

    def _job_result(self, job: Job) -> ReadResult:
        retry = None
        if job.state is JobState.FAILED and job.finished_at is not None:
            retry = max(1.0, FAILED_RETRY_AFTER_S - (time.monotonic() - job.finished_at))
        return ReadResult(
            id=job.id,
            status=job.state,
            engine=job.engine or job.plans[0].engine,
            duration_s=job.duration if job.state is JobState.READY else None,
            chars=job.plans[0].chars,
            title=job.plans[0].title,
            retry_after=retry,
            queue_position=self.queue_position(job),
        )

    def queue_position(self, job: Job) -> int | None:
        """Where ``job`` is among the articles waiting for their first chunk (1: next);
        ``None`` once its audio flows (or it ended).

        Articles take turns for the engines (:mod:`tts_service.lanes`), listeners' before
        background ones, so those admitted earlier in the same or a faster lane start first.
        """
        if job.started:
            return None
        with self._lock:
            ahead = sum(
                1
                for other in self._jobs.values()
                if other.seq < job.seq
                and other.lane <= job.lane
                and other.state is JobState.PENDING
                and not other.started
            )
        return ahead + 1

    def chunks_queued(self) -> dict[tuple[str, str], int]:
        """Chunks waiting for an engine thread, by engine name and lane label (metrics)."""
        return {(name, lane.label): n for (name, lane), n in self._source.queued().items()}

    @property
    def pending_jobs(self) -> int:
        """How many articles are being read right now (jobs neither ready nor failed)."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if job.state is JobState.PENDING)

    def listener_jobs(self, client: str | None = None) -> int:
        """Articles being read that listeners started (of ``client`` only, if given).

        Registry jobs run on threads of their own (``TTS_WORKERS``) and are not counted:
        they must not use up the listeners' ``TTS_MAX_CONCURRENT_JOBS``.
        """
        with self._lock:
            return sum(
                1
                for job in self._jobs.values()
                if job.state is JobState.PENDING
                and job.origin is Lane.LISTENER
                and (client is None or job.client == client)
            )

    def start(
        self,
        plans: tuple[ArticlePlan, ...],
        *,
        admit: Callable[[], None] | None = None,
        retry_failed: bool = False,
        lane: Lane = Lane.LISTENER,
        client: str | None = None,
    ) -> Job | None:
        """Start or join the job for ``plans``; ``None`` when the audio is already stored.

        ``admit``, if given, is called (under the lock) only when a new job is about to
        start; whatever it raises refuses the request and starts nothing. A job that failed
        recently is returned as it is (listeners get 503 until its Retry-After), unless
        ``retry_failed``: a registry job retrying after its backoff must really try again.
        ``lane`` is whose job it is; a listener joining a background job promotes it.
        ``client`` is who asked for it, counted by :meth:`listener_jobs`.
        """
        key = plans[0].key
        self._prune()
        with self._lock:
            running = self._jobs.get(key)
            if running is not None and running.state is JobState.PENDING:
                if lane is Lane.LISTENER:
                    self.promote(running)
                return running
            if running is not None and running.state is JobState.FAILED and not retry_failed:
                return running
            if self.stored(key) is not None:
                return None
            if admit is not None:
                admit()
            job = self._new_job(plans)
            job.lane = job.origin = lane
            job.client = client
            job.seq = next(self._admitted)
            self._jobs[key] = job
        self.metrics.job_started()
        # In the caller's context, so the job's log lines carry the request id of the
        # request that started it (listeners who join later share that id).
        self._runner.submit(contextvars.copy_context().run, self.run, job)
        return job

    def _first_reader(self, plans: tuple[ArticlePlan, ...]) -> str:
        """The first engine of the chain that would be called now (the last one regardless)."""
        for plan in plans[:-1]:
            if is_available(self.engines[plan.engine]):
                return plan.engine
        return plans[-1].engine

    def _new_job(self, plans: tuple[ArticlePlan, ...]) -> Job:
        """A job for ``plans``, its opening bytes known before anyone can follow it."""
        job = Job(plans=plans, progress=JobProgress(total_chunks=len(plans[0].chunks)))
        # Name the engine that will really read: while Google's breaker is open the
        # fallback voice does, and the 202 and X-TTS-Engine must say so.
        job.engine = self._first_reader(plans)
        job.begin(Assembler(plans[0]).header())
        return job

    def promote(self, job: Job) -> None:
        """A listener waits for ``job``: its chunks go ahead of background work from now on."""
        if job.lane is Lane.LISTENER:
            return
        job.lane = Lane.LISTENER
        self._source.promote(pc.key for plan in job.plans for pc in plan.chunks)

    def _prune(self) -> None:
        """Forget finished jobs after their grace period (failed ones after Retry-After)."""
        now = time.monotonic()
        with self._lock:
            for key, job in list(self._jobs.items()):
                if job.finished_at is None:
                    continue
                grace = FAILED_RETRY_AFTER_S if job.state is JobState.FAILED else FINISHED_GRACE_S
                if now - job.finished_at > grace:
                    del self._jobs[key]

    # -- the worker --------------------------------------------------------------------

    def run(self, job: Job, *, on_chunk: Callable[[Job], None] | None = None) -> None:
        """Synthesise ``job`` chunk by chunk, streaming as it goes, then store it."""
        try:
            self._run(job, on_chunk)
        except SynthesisError as exc:
            logger.warning("article %s failed: %s", job.id, exc)
            job.fail(exc)
        except Exception as exc:  # the worker must always end the job, or listeners hang
            logger.exception("article %s crashed", job.id)
            job.fail(SynthesisUnavailable(f"internal error: {exc}"))
        finally:
            self.metrics.job_finished(str(job.state))

    def _run(self, job: Job, on_chunk: Callable[[Job], None] | None) -> None:
        """Make the article, or follow the process that makes it until it is stored.

        Whoever holds ``article:<key>`` makes it; the others follow the stored chunks and
        claim it when its maker's lease runs out, going on from the chunk they reached.
        """
        assembler = Assembler(job.plans[0])
        used: list[str] = []
        name = f"article:{job.id}"
        keeper = self.coordination.keeper
        while True:
            claim = keeper.claim(name)
            if claim is not None:
                try:
                    self._produce(job, on_chunk, assembler, used, claim)
                    return
                except _ClaimLost:
                    logger.warning("article %s was taken over by another process", job.id)
                finally:
                    keeper.release(claim)
            if self._follow(job, on_chunk, assembler, used, name):
                return

    def _add(
        self,
        job: Job,
        assembler: Assembler,
        used: list[str],
        plan: ArticlePlan,
        planned: PlannedChunk,
        frames: bytes,
        on_chunk: Callable[[Job], None] | None,
    ) -> None:
        """Publish the next chunk of the article (read by ``plan``'s engine) to its listeners."""
        pause = assembler.pause_ms(planned)
        size = len(assembler.add(planned, frames))
        if not self.cache.has_chunk(planned.key):
            job.keep(planned.key, frames)  # the cache refused it (disk full)
        job.append(Piece(planned.key, pause), size)
        used.append(plan.engine)
        job.progress.done_chunks += 1
        if on_chunk is not None:
            on_chunk(job)

    def _produce(
        self,
        job: Job,
        on_chunk: Callable[[Job], None] | None,
        assembler: Assembler,
        used: list[str],
        claim: Claim,
    ) -> None:
        """Synthesise the article from chunk ``len(used)`` on, streaming as it goes, then
        store it; :class:`_ClaimLost` when another process took the claim over meanwhile."""
        last_error: SynthesisError | None = None
        for plan in job.plans:
            engine = self.engines[plan.engine]
            if plan is job.plans[-1] or is_available(engine):
                # An engine behind an open breaker is still tried (its chunks fail fast, and
                # one may start the breaker's probe), but it is not named as the reader.
                job.engine = plan.engine
            # A few chunks ahead of the one being added, not the whole article: enough to
            # keep the engine's threads busy, while memory (answers waiting to be added)
            # stays a few chunks however long the article.
            todo = iter(plan.chunks[len(used) :])
            ahead: deque[tuple[PlannedChunk, Future[bytes]]] = deque()
            window = 2 * max(1, engine.concurrency)
            try:
                while True:
                    if claim.lost.is_set():
                        raise _ClaimLost(claim.name)
                    lane = job.lane  # a listener may have joined since the last chunk
                    for planned in itertools.islice(todo, window - len(ahead)):
                        future = self._source.submit(engine, planned, plan.voice, lane, job.id)
                        ahead.append((planned, future))
                    if lane is not job.lane:
                        # ... or while these were being queued.
                        self._source.promote(pc.key for pc, _ in ahead)
                    if not ahead:
                        break
                    planned, future = ahead.popleft()
                    self._add(job, assembler, used, plan, planned, future.result(), on_chunk)
                break
            except SynthesisError as exc:
                last_error = exc
                for _, pending in ahead:
                    pending.cancel()
                logger.warning(
                    "engine %s failed on article %s after %d chunks: %s",
                    plan.engine,
                    job.id,
                    len(used),
                    exc,
                )
            except _ClaimLost:
                for _, pending in ahead:
                    pending.cancel()
                raise
        else:
            raise SynthesisUnavailable(
                "Không đọc được bài viết lúc này: mọi giọng đọc đều lỗi "
                f"(all speech engines failed; last error: {last_error})",
                retry_after=FAILED_RETRY_AFTER_S,
            )
        key, final, engines = self._result(job, used)
        if not self._store(key, final, assembler, job, engines=engines):
            job.retry_store = lambda: self._store(key, final, assembler, job, engines=engines)
        if key != job.id:
            try:
                self.cache.set_alias(job.id, key, ttl=self.settings.fallback_ttl_s)
            except CacheError as exc:
                # The listener has the audio; only the shortcut to it is lost.
                logger.warning("fallback alias for %s not kept: %s", job.id, exc)
        self.coordination.notifier.notify(ARTICLES, key)
        job.finish(key=key, engine=final.engine, duration=assembler.duration)

    @staticmethod
    def _result(job: Job, used: list[str]) -> tuple[str, ArticlePlan, list[str]]:
        """The key the article read by ``used`` (engine per chunk) is stored under, the
        plan that read its end, and the engines that read it, in order."""
        final = next(p for p in job.plans if p.engine == used[-1])
        # The stream is the article: same chunks, same pauses, same tag, whichever plan they
        # were keyed under; its cues and duration are the assembler's.
        engines = list(dict.fromkeys(used))
        if len(engines) == 1:
            return final.key, final, engines
        # The voice changed mid-stream. What is kept is still the stream as it was heard,
        # so the id's file (which a player reloads to seek in), its timings and the
        # stream are one audio. It is keyed by the chunks it is made of: it is neither
        # the primary's reading nor the fallback's.
        plans = {plan.engine: plan for plan in job.plans}
        chunk_keys = [plans[name].chunks[i].key for i, name in enumerate(used)]
        return digest({"article": job.id, "chunks": chunk_keys}), final, engines

    def _stored_chunk(self, job: Job, index: int) -> tuple[ArticlePlan, bytes] | None:
        """Chunk ``index`` of the article as stored by whichever engine read it, if any."""
        for plan in job.plans:
            frames = self.cache.get_chunk(plan.chunks[index].key)
            if frames is not None:
                return plan, frames
        return None

    def _follow(
        self,
        job: Job,
        on_chunk: Callable[[Job], None] | None,
        assembler: Assembler,
        used: list[str],
        name: str,
    ) -> bool:
        """Stream the article another process makes, from the stored chunks (no engine call).

        True once the article is stored (the job is finished); False when its maker's claim
        is gone before that (it died, or gave up): the caller claims the article.
        """
        logger.info("article %s is being made by another process: following it", job.id)
        total = len(job.plans[0].chunks)
        notifier = self.coordination.notifier
        # Subscribed before looking, so a chunk stored between the look and the wait wakes it.
        with notifier.subscribe(CHUNKS) as chunks, notifier.subscribe(ARTICLES) as articles:
            while True:
                index = len(used)
                if index < total:
                    found = self._stored_chunk(job, index)
                    if found is not None:
                        plan, frames = found
                        self._add(job, assembler, used, plan, plan.chunks[index], frames, on_chunk)
                        continue
                else:
                    key, final, _ = self._result(job, used)
                    if self.cache.get_article(key, touch=False) is not None:
                        job.finish(key=key, engine=final.engine, duration=assembler.duration)
                        return True
                if self.coordination.keeper.holder(name) is None:
                    return False
                if self._closing.is_set():
                    raise SynthesisUnavailable("Dịch vụ đang dừng (the service is shutting down).")
                (chunks if index < total else articles).wait(self.coordination.poll_s)

    def chunk_reader(self, job: Job) -> ChunkReader:
        """How ``job``'s listeners read its chunks: from the cache, else from the job
        (chunks the cache refused), else read again (evicted before the article was
        stored: a cache far smaller than the articles being read at once)."""

        def read(key: str) -> bytes | None:
            frames = job.kept(key) or self.cache.get_chunk(key)
            if frames is not None:
                return frames
            for plan in job.plans:
                for planned in plan.chunks:
                    if planned.key == key:
                        logger.warning("chunk %s of %s was evicted; reading it again", key, job.id)
                        engine = self.engines[plan.engine]
                        return self._source.submit(engine, planned, plan.voice).result()
            return None

        return read

    def audio_parts(self, job: Job) -> Iterator[bytes]:
        """The article of ``job`` so far (all of it once ready), a chunk at a time."""
        pieces, _ = job.pieces_from(0)
        return assemble(job.header, pieces, self.chunk_reader(job))

    def _store(
        self, key: str, plan: ArticlePlan, assembler: Assembler, job: Job, *, engines: list[str]
    ) -> bool:
        """Write the article to the cache under ``key``; False (logged) when the disk refuses.

        The MP3 is written from the stored chunks, one at a time: never whole in memory.
        ``plan`` is the one that read its end; ``engines`` all that read it, in order.
        """
        meta = {
            "id": key,
            "engine": plan.engine,
            "engines": engines,
            "voice": plan.voice,
            "title": plan.title,
            "chars": plan.chars,
            "chunks": len(plan.chunks),
            "duration_s": round(assembler.duration, 3),
            "bytes": job.size,
            "created": time.time(),
        }
        try:
            self.cache.put_article(
                key, mp3=self.audio_parts(job), vtt=render_vtt(assembler.cues()), meta=meta
            )
        except CacheError as exc:
            logger.error("article %s could not be stored: %s", key, exc)
            return False
        return True

    # -- synchronous use (CLI) ---------------------------------------------------------

    def synthesize_blocking(
        self, plans: tuple[ArticlePlan, ...], *, on_chunk: Callable[[Job], None] | None = None
    ) -> Job:
        """Run an article's job in this thread; for the command line."""
        job = self._new_job(plans)
        self.metrics.job_started()
        self.run(job, on_chunk=on_chunk)
        if job.error is not None:
            raise job.error
        return job

    @property
    def closing(self) -> bool:
        """True once :meth:`close` has begun: jobs broken off now failed because of it."""
        return self._closing.is_set()

    def close(self, *, timeout: float = 30.0) -> None:
        """Stop the workers, let running work end, then close the engines and the cache.

        Jobs not started never start and chunks still queued are dropped, so a running job
        ends at its next chunk; a chunk an engine is reading, and the job waiting for it,
        are waited for (``timeout`` seconds in all). Only then is the cache closed: a
        thread writing to it afterwards failed ("Cannot operate on a closed database").
        Work still running after ``timeout`` keeps the cache open rather than losing it.
        """
        deadline = time.monotonic() + timeout
        self._closing.set()
        self._runner.shutdown(wait=False, cancel_futures=True)
        settled = self._source.close(timeout)
        for thread in list(self._runner._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
            settled = settled and not thread.is_alive()
        for engine in self.engines.values():
            close = getattr(engine, "close", None)
            if callable(close):
                close()
        self.isolation.close()
        if not settled:
            logger.warning("closing with work still running after %.0f s: cache left open", timeout)
            return
        with self._lock:
            never_started = [job for job in self._jobs.values() if job.state is JobState.PENDING]
        for job in never_started:
            # Queued behind the job cap when the service stopped: its listeners are told.
            job.fail(SynthesisUnavailable("Dịch vụ đang dừng (the service is shutting down)."))
        self.coordination.close()
        self.cache.close()
