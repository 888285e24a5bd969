"""What editors do with registered articles: put, read back, list, regenerate, delete.

:class:`ArticleRegistry` is what the CMS API and ``tts-service pregenerate`` call. It
validates a new source at once (an empty or oversized article, or a URL this service may
never fetch, is refused with the same 4xx as the public read endpoint, before anything is
stored), stores it and queues its job in one transaction, and leaves the synthesis to the
workers (:mod:`.worker`), which claim jobs in priority order: see :data:`PRIORITIES`.

Every operation an API key asks for takes that ``key`` and answers only within what it
may reach (:func:`~tts_service.registry.access.may_access`): another key's article is
"not found", the lexicon is the admins'. ``key=None`` is the operator on the command
line, or the button's public reads.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_service.audio.vtt import cue_times
from tts_service.cache import CachedArticle
from tts_service.errors import EditConflict, InputError, NotAllowed
from tts_service.planning import ArticlePlan
from tts_service.registry.access import SITE, may_access
from tts_service.registry.store import ArticleRecord, ArticleStore, JobRecord, article_not_found
from tts_service.settings import ApiKey
from tts_service.synthesis import SpeechService
from tts_service.text.lexicon import Lexicon
from tts_service.text.model import Document

__all__ = [
    "PRIORITIES",
    "PRIORITY_BATCH",
    "PRIORITY_LEXICON",
    "PRIORITY_PUBLISH",
    "ArticleRegistry",
    "Content",
    "LexiconChange",
    "PutOutcome",
    "TranscriptLine",
    "priority_name",
]

logger = logging.getLogger(__name__)

# Lower runs first: an article being published now goes before the back catalogue.
PRIORITY_PUBLISH = 0
PRIORITY_LEXICON = 5
PRIORITY_BATCH = 10
PRIORITY_UPGRADE = 20
#: A job's priority by the name the API shows (and, for publish and batch, accepts).
PRIORITIES: Mapping[str, int] = {
    "publish": PRIORITY_PUBLISH,
    "lexicon": PRIORITY_LEXICON,
    "batch": PRIORITY_BATCH,
    "upgrade": PRIORITY_UPGRADE,
}
_PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}


def priority_name(priority: int) -> str:
    """The name of a stored job priority, e.g. ``"batch"``.

    A job keeps the most urgent priority it was queued with: an archive article (batch)
    edited before it was read (publish) reports ``"publish"`` but keeps reason ``batch``.
    """
    return _PRIORITY_NAMES.get(priority, str(priority))


@dataclass(frozen=True, slots=True)
class Content:
    """An article's readable content, as the worker and the preview compute it."""

    text: str
    title: str | None
    document: Document
    plans: tuple[ArticlePlan, ...]

    @property
    def target_key(self) -> str:
        """The audio key this content needs: the primary engine's article key."""
        return self.plans[0].key

    def sentences(self) -> list[list[Any]]:
        """``[index, paragraph, written, spoken]`` per sentence, as the registry stores it."""
        return [[s.index, s.paragraph, s.text, s.spoken] for s in self.document.sentences]


@dataclass(frozen=True, slots=True)
class PutOutcome:
    """The stored article and the job queued for it (``None``: nothing changed)."""

    article: ArticleRecord
    job: JobRecord | None


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One sentence of the transcript: when it is read, as written and as spoken."""

    index: int
    paragraph: int
    start: float | None
    end: float | None
    text: str
    spoken: str


@dataclass(frozen=True, slots=True)
class LexiconChange:
    """The lexicon after a change, and the articles re-queued because they read differently."""

    entries: dict[str, str]
    etag: str
    requeued: list[str]


def lexicon_etag(entries: Mapping[str, str]) -> str:
    """A short hash of the site lexicon, for ``ETag`` / ``If-Match``."""
    blob = "".join(f"{k}\t{v}\n" for k, v in sorted(entries.items()))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class ArticleRegistry:
    """Registered articles and the site lexicon, over the store and the speech service."""

    def __init__(
        self,
        service: SpeechService,
        store: ArticleStore,
        *,
        notify: Callable[[str | None, str, dict[str, Any]], object] | None = None,
    ) -> None:
        self.service = service
        self.store = store
        # Called as notify(owner, event, payload) when an article is ready or failed.
        self.notify = notify
        # Called after a job is queued, so an idle worker starts on it at once.
        self.queued: Callable[[], None] | None = None
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._waiters_lock = threading.Lock()
        managed = store.lexicon()
        if managed is None:
            # First start with a registry: the site lexicon file (if any) seeds it; from now
            # on editors manage it through the API and the database copy is what counts.
            store.set_lexicon(service.lexicon.site_entries)
        elif managed != service.lexicon.site_entries:
            service.set_lexicon(Lexicon.with_site(managed))

    # -- waiting for jobs (long polls) ----------------------------------------------------

    def job_ended(self, job_id: int) -> asyncio.Event:
        """An event set when job ``job_id`` ends in this process (for ``?wait=``)."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._waiters_lock:
            self._waiters.setdefault(job_id, set()).add(entry)
        return event

    def forget_waiter(self, job_id: int, event: asyncio.Event) -> None:
        """Drop a waiter registered by :meth:`job_ended`."""
        with self._waiters_lock:
            waiters = self._waiters.get(job_id, set())
            for entry in [w for w in waiters if w[1] is event]:
                waiters.discard(entry)
            if not waiters:
                self._waiters.pop(job_id, None)

    def announce(self, job_id: int) -> None:
        """Wake everyone waiting for job ``job_id`` (called from worker threads)."""
        with self._waiters_lock:
            waiters = list(self._waiters.get(job_id, ()))
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                continue  # that listener's loop has closed

    def _queued(self) -> None:
        if self.queued is not None:
            self.queued()

    # -- content -----------------------------------------------------------------------

    def content(self, record: ArticleRecord) -> Content:
        """Extract (fetching a URL source) and normalise an article; plan its audio key.

        Raises the service's ``InputError`` subclasses for content that cannot be read
        and ``FetchFailed`` for a page that cannot be fetched now.
        """
        service = self.service
        if record.source_kind == "url":
            article = service.fetch_article(record.source, selector=record.selector)
        elif record.source_kind == "html":
            article = service.extract(text=None, html=record.source, selector=record.selector)
        else:
            article = service.extract(text=record.source, html=None)
        title = record.title or article.title
        document = service.normalize(article.text)
        plans = service.plan(document, title=title, chain=service.chain(None))
        return Content(article.text, title, document, plans)

    # -- the CMS's operations ----------------------------------------------------------

    def put(
        self,
        article_id: str,
        *,
        title: str | None,
        text: str | None = None,
        html: str | None = None,
        url: str | None = None,
        selector: str | None = None,
        revision: str | None = None,
        key: ApiKey | None = None,
        owner: str | None = None,
        priority: int = PRIORITY_PUBLISH,
        reason: str = "put",
    ) -> PutOutcome:
        """Register or update an article; queue its synthesis when what is read changed.

        Nothing is stored when the source is refused: text or HTML with nothing to read
        (:class:`InputError`, 422) or too long (413), or a URL the fetcher would never
        fetch — reading by URL off, or a scheme, credentials, IP-address host or host not on
        ``TTS_FETCH_ALLOWED_HOSTS`` (:class:`ForbiddenTarget`, 403, the same check
        :func:`tts_service.fetch.check_target` makes on every hop). ``priority`` is one of
        :data:`PRIORITIES`: :data:`PRIORITY_BATCH` lets an archive wait behind today's
        articles; a job already queued for the article keeps the more urgent of the two.

        ``key`` is the API key asking: it owns a new article, and may change an existing
        one only if it may reach it (else :class:`ArticleTaken`, nothing stored). Without
        a key (the command line) any article may be changed and a new one is owned by
        ``owner`` (``None``: the site). An existing article's owner never changes.
        """
        if key is not None and owner is not None:
            raise ValueError("pass the API key or an owner, not both")
        kind, source = _source(text=text, html=html, url=url)
        title = unicodedata.normalize("NFC", title) if title else None
        if kind != "url":
            # Refuse unreadable content now, with a 4xx, rather than store a failing job.
            self.service.extract(
                text=source if kind == "text" else None,
                html=source if kind == "html" else None,
                selector=selector,
            )
        else:
            # Refused unless reading by URL is on and the URL passes fetch.check_target
            # (allow-list and all): such a job could only fail later, in a worker.
            self.service.check_url_reading(source)
        record, job = self.store.put_source(
            article_id,
            title=title,
            kind=kind,
            source=source,
            selector=selector,
            revision=revision,
            owner=key.name if key is not None else owner,
            reason=reason,
            priority=priority,
            may_change=_may_change(key),
        )
        if job is not None:
            self._queued()
        return PutOutcome(record, job)

    def get(self, article_id: str, *, key: ApiKey | None = None) -> ArticleRecord:
        """The registered article, or :class:`ArticleNotFound` (also when ``key`` may not
        reach it)."""
        record = self.store.get(article_id)
        if record is None or (key is not None and not may_access(key, record.owner)):
            raise article_not_found(article_id)
        return record

    def page(
        self, *, key: ApiKey, status: str | None, page: int
    ) -> tuple[list[ArticleRecord], int, int]:
        """One page of the articles ``key`` may reach, in id order; the total and page count."""
        size = self.service.settings.page_size
        owner = None if may_access(key, SITE) else key.name
        records, total = self.store.page(status=status, page=page, size=size, owner=owner)
        return records, total, max(1, -(-total // size))

    def job(self, job_id: int, *, key: ApiKey) -> JobRecord | None:
        """A job of an article ``key`` may reach (as owned when the job was queued)."""
        job = self.store.job(job_id)
        if job is None or not may_access(key, job.article_owner):
            return None
        return job

    def regenerate(self, article_id: str, *, key: ApiKey | None = None) -> JobRecord:
        """Queue a new synthesis of an article as it is now."""
        job = self.store.enqueue(
            article_id,
            reason="regenerate",
            priority=PRIORITY_PUBLISH,
            may_change=_may_change(key) or _exists,
        )
        self._queued()
        return job

    def delete(self, article_id: str, *, key: ApiKey | None = None) -> None:
        """Remove an article, and the audio (article and chunks) no other article uses.

        Chunks are shared between articles that contain the same sentence: a sentence
        still used by another registered article keeps its audio.
        """
        record = self.store.delete(article_id, may_change=_may_change(key))
        if record is None:
            raise article_not_found(article_id)
        audio_keys = [k for k in (record.audio_key,) if k] + list(record.chunk_keys or ())
        in_use = self.store.audio_in_use(audio_keys)
        cache = self.service.cache
        if record.audio_key:
            free = cache.unpin(record.audio_key, article_id)
            if free and record.audio_key not in in_use:
                cache.remove("article", record.audio_key)
        for chunk_key in record.chunk_keys or ():
            if chunk_key not in in_use:
                cache.remove("chunk", chunk_key)

    def published(self, owner: str, *, limit: int) -> list[tuple[ArticleRecord, CachedArticle]]:
        """``owner``'s articles with their stored audio, newest first (for its feed)."""
        found = []
        for record in self.store.recent_ready(owner, limit=limit):
            stored = self.audio(record)
            if stored is not None:
                found.append((record, stored))
        return found

    def audio(self, record: ArticleRecord) -> CachedArticle | None:
        """The stored audio a registered article is served with, if there is some."""
        if record.audio_key is None:
            return None
        return self.service.cache.get_article(record.audio_key)

    def transcript(self, record: ArticleRecord) -> list[TranscriptLine]:
        """What is read, sentence by sentence, with times from the served audio's cues.

        Times are ``None`` for a sentence the audio does not have yet (new content whose
        audio is still being made).
        """
        stored = self.audio(record)
        cache = self.service.cache
        times = cue_times(cache.read_vtt(stored)) if stored is not None else {}
        if record.stale:
            times = {}
        lines = []
        for index, paragraph, written, spoken in record.sentences or ():
            start, end = times.get(int(index), (None, None))
            lines.append(TranscriptLine(int(index), int(paragraph), start, end, written, spoken))
        return lines

    # -- the site lexicon ----------------------------------------------------------------

    def lexicon(self) -> tuple[dict[str, str], str]:
        """The site lexicon and its ETag."""
        entries = self.store.lexicon() or {}
        return entries, lexicon_etag(entries)

    def set_lexicon(
        self, entries: Mapping[str, str], *, if_match: str | None, key: ApiKey | None = None
    ) -> LexiconChange:
        """Replace the site lexicon; re-queue exactly the articles it makes read differently.

        ``if_match`` is the ETag the editor's copy was read with; when another editor
        changed the lexicon since, nothing is written and :class:`EditConflict` is raised.
        The lexicon is the site's: a ``key`` that is not an admin gets :class:`NotAllowed`
        before anything else is looked at.
        """
        if key is not None and not may_access(key, SITE):
            raise NotAllowed(
                "Chỉ khóa API quản trị (admin) mới được sửa từ điển của trang; khóa của CMS chỉ "
                "quản lý bài viết của mình (only an admin API key may change the site lexicon; "
                "a CMS key manages its own articles)."
            )
        clean = _clean_entries(entries)
        new_lexicon = Lexicon.with_site(clean)

        def unchanged_since_read(current: dict[str, str]) -> None:
            # In the store's transaction: an editor on another process cannot slip between.
            if if_match is not None and if_match.strip('"') != lexicon_etag(current):
                raise EditConflict(
                    "Từ điển đã được người khác sửa; hãy tải lại rồi sửa tiếp "
                    "(the lexicon changed since you read it: reload it and edit again)."
                )

        current = self.store.set_lexicon(clean, check=unchanged_since_read)
        changed_keys = {k for k in set(current) | set(clean) if current.get(k) != clean.get(k)}
        self.service.set_lexicon(new_lexicon)
        requeued = self._requeue_for(changed_keys)
        return LexiconChange(clean, lexicon_etag(clean), requeued)

    def _requeue_for(self, changed_keys: set[str]) -> list[str]:
        """Re-queue the articles whose spoken text the changed entries alter."""
        if not changed_keys:
            return []
        requeued = []
        for article_id, _version, text in self.store.texts():
            # Cheap filter first: an entry can only change an article that contains it.
            if text is None or not any(key in text for key in changed_keys):
                continue
            record = self.store.get(article_id)
            if record is None or record.sentences is None:
                continue
            try:
                document = self.service.normalize(text)
            except InputError:
                continue
            spoken = [s.spoken for s in document.sentences]
            if spoken != [str(s[3]) for s in record.sentences]:
                self.store.enqueue(article_id, reason="lexicon", priority=PRIORITY_LEXICON)
                requeued.append(article_id)
        logger.info("lexicon change re-queued %d articles", len(requeued))
        if requeued:
            self._queued()
        return requeued

    def close(self) -> None:
        """Close the store."""
        self.store.close()


def _may_change(key: ApiKey | None) -> Callable[[str | None], bool] | None:
    """The store's ownership check for ``key``; ``None`` (no check) for the command line."""
    if key is None:
        return None
    return lambda owner: may_access(key, owner)


def _exists(_owner: str | None) -> bool:
    """The check that only asks for the article to exist (the command line's regenerate)."""
    return True


def _source(*, text: str | None, html: str | None, url: str | None) -> tuple[str, str]:
    given = [(k, v) for k, v in (("text", text), ("html", html), ("url", url)) if v is not None]
    if len(given) != 1:
        raise InputError(
            "Gửi đúng một trong các trường 'text', 'html' hoặc 'url' "
            "(send exactly one of 'text', 'html' or 'url')."
        )
    kind, value = given[0]
    return kind, unicodedata.normalize("NFC", value) if kind != "url" else value.strip()


def _clean_entries(entries: Mapping[str, str]) -> dict[str, str]:
    """NFC, trimmed entries; an entry with an empty side or a tab or newline is refused."""
    clean: dict[str, str] = {}
    for written, reading in entries.items():
        w = unicodedata.normalize("NFC", written).strip()
        r = unicodedata.normalize("NFC", reading).strip()
        if not w or not r or any(c in w + r for c in "\t\r\n"):
            raise InputError(
                f"Mục từ điển không hợp lệ: {written!r} → {reading!r} "
                "(an entry needs a written form and a reading, each on one line)."
            )
        clean[w] = r
    return clean
