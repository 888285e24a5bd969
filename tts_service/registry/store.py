"""Rows of the registry: articles, their persistent jobs, and the managed site lexicon.

Only this module writes the registry's articles, jobs and lexicon (``webhooks.py`` its
deliveries), with SQLAlchemy Core on SQLite or PostgreSQL. Jobs are a queue in the database, so
a restart loses none: a worker *claims* a job with a lease (``owner``, ``lease_until``)
and renews it while it works; a job whose process died keeps its row in ``running``
until the lease runs out, and is then claimed again like a queued one — it is resumed,
and the chunks its first run already made come from the audio cache.

A job's ``attempts`` counts its tries *started*: every claim adds one, a resume after a
crash included, so an article whose reading kills the process (a poison job) is given up
after ``TTS_JOB_ATTEMPTS`` tries instead of crash-looping every process that takes it.
Only a job handed back by a process shutting down cleanly gets its try back.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from tts_service.errors import ArticleNotFound, ArticleTaken, RegistryError
from tts_service.registry.db import Database
from tts_service.registry.tables import articles, jobs, lexicon, state

__all__ = ["ArticleRecord", "ArticleStore", "JobRecord", "SourceKind", "article_not_found"]

SourceKind = str  # "text" | "html" | "url"

# Advisory lock keys on PostgreSQL (one bigint each): an article's changes, the lexicon.
_ARTICLE_LOCKS = 0x7473_0001 << 32
_LEXICON_LOCK = 0x7473_0002 << 32
# Candidates a claim looks past when another process just took their article's other job.
_CLAIM_TRIES = 8


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """One registered article as stored."""

    id: str
    title: str | None
    source_kind: SourceKind
    source: str
    selector: str | None
    revision: str | None
    owner: str | None
    version: int
    text: str | None
    sentences: list[list[Any]] | None
    target_key: str | None
    audio_key: str | None
    audio_version: int | None
    chunk_keys: list[str] | None
    status: str
    error: str | None
    engine: str | None
    duration_s: float | None
    chunks_total: int | None
    chunks_reused: int | None
    chunks_synthesised: int | None
    created: float
    updated: float
    ready_at: float | None

    @property
    def stale(self) -> bool:
        """True when the audio served was made from older content or an older lexicon.

        E.g. a typo was fixed and the new audio is still being made: listeners get the
        previous audio until then, and the CMS can show that.
        """
        if self.audio_key is None:
            return False
        if self.audio_version != self.version:
            return True
        return self.target_key is not None and self.target_key != self.audio_key

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> ArticleRecord:
        values = list(row)
        values[9] = json.loads(values[9]) if values[9] else None
        values[13] = json.loads(values[13]) if values[13] else None
        return cls(*values)


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One persistent job: read (or re-read) one article."""

    id: int
    article_id: str
    reason: str
    priority: int
    state: str
    attempts: int
    not_before: float
    owner: str | None
    lease_until: float | None
    chunks_total: int | None
    chunks_reused: int | None
    chunks_synthesised: int | None
    error: str | None
    created: float
    started: float | None
    finished: float | None
    # The API key owning the article when the job was queued; None = the site.
    article_owner: str | None


class ArticleStore:
    """Reads and writes the registry's rows; every method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, location: str | Path) -> ArticleStore:
        """Open (and migrate) the registry database: a URL, or the path of a SQLite file."""
        return cls(Database(location))

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # -- articles ----------------------------------------------------------------------

    def get(self, article_id: str) -> ArticleRecord | None:
        """The article with this id, or ``None``."""
        with self.db.read() as conn:
            row = conn.execute(sa.select(articles).where(articles.c.id == article_id)).first()
        return ArticleRecord.from_row(tuple(row)) if row else None

    def page(
        self, *, status: str | None, page: int, size: int, owner: str | None = None
    ) -> tuple[list[ArticleRecord], int]:
        """One page of articles in id order, and the total.

        Optionally only those of one ``status``, or of one ``owner`` (an API key's name).
        """
        conditions = []
        if status:
            conditions.append(articles.c.status == status)
        if owner is not None:
            conditions.append(articles.c.owner == owner)
        with self.db.read() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(articles).where(*conditions)
            ).scalar_one()
            rows = conn.execute(
                sa.select(articles)
                .where(*conditions)
                .order_by(articles.c.id)
                .limit(size)
                .offset((page - 1) * size)
            ).all()
        return [ArticleRecord.from_row(tuple(r)) for r in rows], int(total)

    def recent_ready(self, owner: str, *, limit: int) -> list[ArticleRecord]:
        """``owner``'s articles with audio, most recently made first (a podcast feed)."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(articles)
                .where(articles.c.owner == owner, articles.c.audio_key.is_not(None))
                .order_by(
                    sa.func.coalesce(articles.c.ready_at, articles.c.updated).desc(),
                    articles.c.id,
                )
                .limit(limit)
            ).all()
        return [ArticleRecord.from_row(tuple(r)) for r in rows]

    def ids(self) -> list[str]:
        """Every registered id."""
        with self.db.read() as conn:
            return [str(i) for i in conn.scalars(sa.select(articles.c.id).order_by(articles.c.id))]

    def put_source(
        self,
        article_id: str,
        *,
        title: str | None,
        kind: SourceKind,
        source: str,
        selector: str | None,
        revision: str | None,
        owner: str | None,
        reason: str,
        priority: int,
        may_change: Callable[[str | None], bool] | None = None,
    ) -> tuple[ArticleRecord, JobRecord | None]:
        """Register or update an article and queue its job, in one transaction.

        No job is queued when nothing that is read changed and the article has not failed:
        the revision label alone is not a change, so a CMS that saves without editing the
        body costs no synthesis. Storing the source and queueing its job together means a
        crash can never leave new content without the job that reads it.

        ``owner`` (an API key's name; None = the site) owns a new article; an existing
        one keeps its owner. ``may_change(owner)`` is asked about an existing article's
        owner in the same transaction (two keys registering one id at once cannot both
        win); when it says no, nothing is written and :class:`ArticleTaken` is raised.
        """
        now = time.time()
        with self.db.write() as conn:
            _lock_article(conn, article_id)
            row = conn.execute(
                sa.select(
                    articles.c.title,
                    articles.c.source_kind,
                    articles.c.source,
                    articles.c.selector,
                    articles.c.status,
                    articles.c.owner,
                ).where(articles.c.id == article_id)
            ).first()
            if row is not None and may_change is not None and not may_change(row[5]):
                raise ArticleTaken(
                    f"Mã bài viết '{article_id}' đã thuộc về một khóa API khác; hãy dùng mã "
                    "khác (this article id is registered by another API key: use another id)."
                )
            if row is None:
                conn.execute(
                    sa.insert(articles).values(
                        id=article_id,
                        title=title,
                        source_kind=kind,
                        source=source,
                        selector=selector,
                        revision=revision,
                        owner=owner,
                        version=1,
                        status="queued",
                        created=now,
                        updated=now,
                    )
                )
                changed = True
            else:
                changed = tuple(row[:4]) != (title, kind, source, selector)
                conn.execute(
                    sa.update(articles)
                    .where(articles.c.id == article_id)
                    .values(
                        title=title,
                        source_kind=kind,
                        source=source,
                        selector=selector,
                        revision=revision,
                        version=articles.c.version + int(changed),
                        updated=now,
                    )
                )
            job_id = None
            if changed or (row is not None and row[4] == "failed"):
                job_id = _enqueue(conn, article_id, reason=reason, priority=priority, now=now)
        return self._must_get(article_id), (self.job(job_id) if job_id is not None else None)

    def _must_get(self, article_id: str) -> ArticleRecord:
        record = self.get(article_id)
        if record is None:
            raise RegistryError(f"article {article_id!r} vanished from the registry")
        return record

    def set_content(
        self,
        article_id: str,
        *,
        version: int,
        text: str,
        sentences: list[list[Any]],
        target_key: str,
    ) -> bool:
        """Record the normalised content of ``version``; False if the article moved on."""
        with self.db.write() as conn:
            result = conn.execute(
                sa.update(articles)
                .where(articles.c.id == article_id, articles.c.version == version)
                .values(
                    text=text,
                    sentences=json.dumps(sentences, ensure_ascii=False),
                    target_key=target_key,
                    updated=time.time(),
                )
            )
        return result.rowcount == 1

    def set_status(self, article_id: str, status: str, *, error: str | None = None) -> None:
        """Set an article's status (and error, cleared unless given)."""
        with self.db.write() as conn:
            conn.execute(
                sa.update(articles)
                .where(articles.c.id == article_id)
                .values(status=status, error=error, updated=time.time())
            )

    def record_audio(
        self,
        article_id: str,
        *,
        version: int,
        audio_key: str,
        chunk_keys: list[str],
        engine: str,
        duration_s: float,
        counts: tuple[int, int, int],
        ready: bool,
    ) -> None:
        """Store the audio made for ``version``; the article is ready unless ``ready`` is False.

        ``ready`` is False when the content changed while this audio was being made: it is
        still the newest audio there is (served, marked stale) until the next job ends.
        """
        total, reused, synthesised = counts
        now = time.time()
        values: dict[str, Any] = {
            "audio_key": audio_key,
            "audio_version": version,
            "chunk_keys": json.dumps(chunk_keys),
            "engine": engine,
            "duration_s": duration_s,
            "chunks_total": total,
            "chunks_reused": reused,
            "chunks_synthesised": synthesised,
            "updated": now,
            "ready_at": now,
            "status": "ready" if ready else "queued",
        }
        if ready:
            values["error"] = None
        with self.db.write() as conn:
            conn.execute(sa.update(articles).where(articles.c.id == article_id).values(values))

    def delete(
        self, article_id: str, *, may_change: Callable[[str | None], bool] | None = None
    ) -> ArticleRecord | None:
        """Remove an article and cancel its jobs; the removed record, or ``None``.

        ``None`` too when ``may_change(owner)``, asked in the same transaction, says no:
        nothing is removed.
        """
        with self.db.write() as conn:
            _lock_article(conn, article_id)
            row = conn.execute(sa.select(articles).where(articles.c.id == article_id)).first()
            if row is None:
                return None
            record = ArticleRecord.from_row(tuple(row))
            if may_change is not None and not may_change(record.owner):
                return None
            conn.execute(sa.delete(articles).where(articles.c.id == article_id))
            conn.execute(
                sa.update(jobs)
                .where(jobs.c.article_id == article_id, jobs.c.state.in_(("queued", "running")))
                .values(state="cancelled", finished=time.time())
            )
        return record

    def audio_in_use(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` (article or chunk audio) some registered article still uses."""
        wanted = set(keys)
        used: set[str] = set()
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(articles.c.audio_key, articles.c.chunk_keys).where(
                    articles.c.audio_key.is_not(None)
                )
            )
            for audio_key, chunk_keys in rows:
                if audio_key in wanted:
                    used.add(audio_key)
                if chunk_keys:
                    used.update(wanted.intersection(json.loads(chunk_keys)))
        return used

    def texts(self) -> Iterable[tuple[str, int, str | None]]:
        """``(id, version, extracted text)`` of every article, for lexicon changes."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(articles.c.id, articles.c.version, articles.c.text).order_by(
                    articles.c.id
                )
            ).all()
        return [(str(r[0]), int(r[1]), r[2]) for r in rows]

    def counts(self) -> dict[str, int]:
        """Articles per status."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(articles.c.status, sa.func.count()).group_by(articles.c.status)
            ).all()
        return {str(status): int(n) for status, n in rows}

    # -- jobs --------------------------------------------------------------------------

    def enqueue(
        self,
        article_id: str,
        *,
        reason: str,
        priority: int,
        delay_s: float = 0.0,
        may_change: Callable[[str | None], bool] | None = None,
    ) -> JobRecord:
        """Queue a job for an article, or return the one already queued for it.

        At most one job per article waits in the queue: three quick saves of an article
        cost one synthesis of its last version, not three. With ``may_change``, the
        article must exist and ``may_change(owner)``, asked in the same transaction, must
        say yes, else nothing is queued and :class:`ArticleNotFound` is raised.
        """
        with self.db.write() as conn:
            _lock_article(conn, article_id)
            if may_change is not None:
                row = conn.execute(
                    sa.select(articles.c.owner).where(articles.c.id == article_id)
                ).first()
                if row is None or not may_change(row[0]):
                    raise article_not_found(article_id)
            job_id = _enqueue(
                conn,
                article_id,
                reason=reason,
                priority=priority,
                now=time.time(),
                delay_s=delay_s,
            )
        job = self.job(job_id)
        if job is None:
            raise RegistryError(f"job {job_id} vanished from the registry")
        return job

    def job(self, job_id: int) -> JobRecord | None:
        """A job by id."""
        with self.db.read() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        return JobRecord(*row) if row else None

    def latest_job(self, article_id: str) -> JobRecord | None:
        """The newest job of an article."""
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(jobs)
                .where(jobs.c.article_id == article_id)
                .order_by(jobs.c.id.desc())
                .limit(1)
            ).first()
        return JobRecord(*row) if row else None

    def claim(self, owner: str, *, lease_s: float) -> JobRecord | None:
        """Take the next due job (or one whose worker's lease ran out) for ``owner``.

        A job is never claimed while another job of the same article is running: its
        newer version waits for the older one to finish instead of racing it. The claim
        counts as a try (``attempts + 1``), in the same transaction: a process that dies
        while reading the job has used the try up.

        On SQLite the transaction is ``BEGIN IMMEDIATE``: one claim at a time, machine-wide.
        On PostgreSQL claims run side by side: ``FOR UPDATE SKIP LOCKED`` makes each take
        a different row, and the article's advisory lock, then a second look, stops two of
        them from starting two jobs of one article (a resumed one and a newer one).
        """
        now = time.time()
        skipped: list[int] = []
        claimed = None
        with self.db.write() as conn:
            for _ in range(_CLAIM_TRIES):
                query = (
                    sa.select(jobs.c.id, jobs.c.article_id)
                    .where(
                        sa.or_(
                            sa.and_(jobs.c.state == "queued", jobs.c.not_before <= now),
                            sa.and_(jobs.c.state == "running", jobs.c.lease_until < now),
                        ),
                        ~_article_busy(jobs.c.id, jobs.c.article_id, now),
                    )
                    .order_by(jobs.c.priority, jobs.c.id)
                    .limit(1)
                    .with_for_update(skip_locked=True, of=jobs)
                )
                if skipped:
                    query = query.where(jobs.c.id.not_in(skipped))
                row = conn.execute(query).first()
                if row is None:
                    return None
                job_id, article_id = int(row[0]), str(row[1])
                if conn.dialect.name == "postgresql":
                    _lock_article(conn, article_id)
                    # Another claimer of this article committed while we waited: look again.
                    if conn.execute(
                        sa.select(_article_busy(sa.literal(job_id), sa.literal(article_id), now))
                    ).scalar_one():
                        skipped.append(job_id)
                        continue
                conn.execute(
                    sa.update(jobs)
                    .where(jobs.c.id == job_id)
                    .values(
                        state="running",
                        owner=owner,
                        lease_until=now + lease_s,
                        attempts=jobs.c.attempts + 1,
                        started=sa.func.coalesce(jobs.c.started, now),
                    )
                )
                claimed = job_id
                break
        return self.job(claimed) if claimed is not None else None

    def renew(self, job_id: int, owner: str, *, lease_s: float) -> bool:
        """Extend a running job's lease; False when this worker no longer holds it."""
        with self.db.write() as conn:
            result = conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.state == "running")
                .values(lease_until=time.time() + lease_s)
            )
        return result.rowcount == 1

    def expire_leases(self, owners: Iterable[str], *, refund: bool = False) -> int:
        """Make the jobs of these workers claimable now; how many there were.

        For dead workers the try stays counted: the job may be what killed them. A worker
        handing its jobs back while it shuts down cleanly passes ``refund`` — stopping a
        service is not a failed try.
        """
        owners = list(owners)
        if not owners:
            return 0
        values: dict[str, Any] = {"lease_until": 0}
        if refund:
            values["attempts"] = sa.case((jobs.c.attempts > 0, jobs.c.attempts - 1), else_=0)
        with self.db.write() as conn:
            result = conn.execute(
                sa.update(jobs)
                .where(jobs.c.state == "running", jobs.c.owner.in_(owners))
                .values(values)
            )
        return int(result.rowcount)

    def running_owners(self) -> set[str]:
        """Owners of running jobs."""
        with self.db.read() as conn:
            return {
                str(o)
                for o in conn.scalars(
                    sa.select(jobs.c.owner).where(jobs.c.state == "running").distinct()
                )
            }

    def end_job(
        self,
        job_id: int,
        owner: str,
        *,
        state: str,
        counts: tuple[int, int, int] | None = None,
        error: str | None = None,
    ) -> bool:
        """Mark a job done, failed or cancelled; False when this worker lost it meanwhile."""
        total, reused, synthesised = counts if counts is not None else (None, None, None)
        with self.db.write() as conn:
            result = conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.state == "running")
                .values(
                    state=state,
                    error=error,
                    chunks_total=total,
                    chunks_reused=reused,
                    chunks_synthesised=synthesised,
                    finished=time.time(),
                    lease_until=None,
                )
            )
        return result.rowcount == 1

    def retry_later(self, job_id: int, owner: str, *, delay_s: float, error: str) -> bool:
        """Put a failed try back in the queue, due in ``delay_s`` (the claim counted it)."""
        with self.db.write() as conn:
            result = conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.state == "running")
                .values(
                    state="queued",
                    not_before=time.time() + delay_s,
                    error=error,
                    owner=None,
                    lease_until=None,
                )
            )
        return result.rowcount == 1

    def next_due(self) -> float | None:
        """When the next job becomes claimable (a backoff or a lease ending), if any."""
        with self.db.read() as conn:
            queued = conn.execute(
                sa.select(sa.func.min(jobs.c.not_before)).where(jobs.c.state == "queued")
            ).scalar_one()
            leased = conn.execute(
                sa.select(sa.func.min(jobs.c.lease_until)).where(jobs.c.state == "running")
            ).scalar_one()
        times = [float(t) for t in (queued, leased) if t is not None]
        return min(times) if times else None

    def queue_depth(self) -> dict[str, int]:
        """Jobs queued and running."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(jobs.c.state, sa.func.count())
                .where(jobs.c.state.in_(("queued", "running")))
                .group_by(jobs.c.state)
            ).all()
        return {str(s): int(n) for s, n in rows}

    # -- the managed site lexicon -----------------------------------------------------------

    def lexicon(self) -> dict[str, str] | None:
        """The site lexicon editors manage, or ``None`` before it was ever stored."""
        with self.db.read() as conn:
            return _read_lexicon(conn)

    def set_lexicon(
        self,
        entries: Mapping[str, str],
        *,
        check: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        """Replace the managed site lexicon; the entries it replaced.

        ``check(current)`` is called in the same transaction, before anything is written
        (an editor's ``If-Match``): when it raises, nothing changes, so two editors saving
        at once on two processes cannot both win.
        """
        with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LEXICON_LOCK)))
            current = _read_lexicon(conn) or {}
            if check is not None:
                check(current)
            conn.execute(sa.delete(lexicon))
            if entries:
                conn.execute(
                    sa.insert(lexicon),
                    [{"written": w, "reading": r} for w, r in sorted(entries.items())],
                )
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
                state
            ).values(key="lexicon", value="managed")
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[state.c.key], set_={"value": insert.excluded.value}
                )
            )
        return current


def article_not_found(article_id: str) -> ArticleNotFound:
    """The 404, worded the same whether the article is missing or another key's."""
    return ArticleNotFound(
        f"Không có bài viết '{article_id}' (no registered article with this id)."
    )


def _lock_article(conn: Connection, article_id: str) -> None:
    """Serialise the changes of one article across processes, until the commit.

    SQLite needs nothing: its write transactions are ``BEGIN IMMEDIATE``. On PostgreSQL two
    saves of a new article would both find no row and both insert, and two enqueues could
    both queue a job: the first to lock goes first, the second sees what it wrote.
    """
    if conn.dialect.name == "postgresql":
        key = _ARTICLE_LOCKS | zlib.crc32(article_id.encode("utf-8"))
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _article_busy(job_id: Any, article_id: Any, now: float) -> sa.Exists:
    """Another job of the article is running under a live lease."""
    running = jobs.alias("running")
    return sa.exists().where(
        running.c.article_id == article_id,
        running.c.id != job_id,
        running.c.state == "running",
        running.c.lease_until >= now,
    )


def _read_lexicon(conn: Connection) -> dict[str, str] | None:
    managed = conn.execute(sa.select(state.c.value).where(state.c.key == "lexicon")).first()
    if managed is None:
        return None
    rows = conn.execute(sa.select(lexicon.c.written, lexicon.c.reading).order_by(lexicon.c.written))
    return {str(w): str(r) for w, r in rows}


def _enqueue(
    conn: Connection,
    article_id: str,
    *,
    reason: str,
    priority: int,
    now: float,
    delay_s: float = 0.0,
) -> int:
    """Queue (or merge into the queued) job of an article, inside the caller's transaction.

    The caller holds the article's lock (:func:`_lock_article`). An immediate job marks
    the article queued; a delayed one (trying Google's voice again later, over audio read
    by the fallback voice) leaves its status alone.
    """
    due = now + delay_s
    queued = conn.execute(
        sa.select(jobs.c.id)
        .where(jobs.c.article_id == article_id, jobs.c.state == "queued")
        .order_by(jobs.c.id)
        .limit(1)
    ).scalar_one_or_none()
    if queued is not None:
        job_id = int(queued)
        conn.execute(
            sa.update(jobs)
            .where(jobs.c.id == job_id)
            .values(
                priority=sa.case((jobs.c.priority > priority, priority), else_=jobs.c.priority),
                not_before=sa.case((jobs.c.not_before > due, due), else_=jobs.c.not_before),
            )
        )
    else:
        owner = sa.select(articles.c.owner).where(articles.c.id == article_id).scalar_subquery()
        result = conn.execute(
            sa.insert(jobs).values(
                article_id=article_id,
                reason=reason,
                priority=priority,
                state="queued",
                not_before=due,
                created=now,
                article_owner=owner,
            )
        )
        key = result.inserted_primary_key
        if key is None or key[0] is None:  # pragma: no cover - an INSERT always sets it
            raise RegistryError("the registry returned no id for a new job")
        job_id = int(key[0])
    if delay_s <= 0:
        conn.execute(
            sa.update(articles)
            .where(articles.c.id == article_id, articles.c.status != "synthesising")
            .values(status="queued", error=None, updated=now)
        )
    return job_id
