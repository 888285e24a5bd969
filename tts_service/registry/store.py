"""Rows of the registry: articles, their persistent jobs, and the managed site lexicon.

Only this module writes SQL against the registry. Jobs are a queue in the database, so
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
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_service.errors import ArticleNotFound, ArticleTaken, RegistryError
from tts_service.registry.db import Database

__all__ = ["ArticleRecord", "ArticleStore", "JobRecord", "SourceKind", "article_not_found"]

SourceKind = str  # "text" | "html" | "url"

_ARTICLE_COLUMNS = (
    "id, title, source_kind, source, selector, revision, owner, version, text, sentences, "
    "target_key, audio_key, audio_version, chunk_keys, status, error, engine, duration_s, "
    "chunks_total, chunks_reused, chunks_synthesised, created, updated, ready_at"
)
_JOB_COLUMNS = (
    "id, article_id, reason, priority, state, attempts, not_before, owner, lease_until, "
    "chunks_total, chunks_reused, chunks_synthesised, error, created, started, finished, "
    "article_owner"
)


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
    def open(cls, path: Path) -> ArticleStore:
        """Open (and migrate) the registry database at ``path``."""
        return cls(Database(path))

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # -- articles ----------------------------------------------------------------------

    def get(self, article_id: str) -> ArticleRecord | None:
        """The article with this id, or ``None``."""
        with self.db.read() as db:
            row = db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
        return ArticleRecord.from_row(row) if row else None

    def page(
        self, *, status: str | None, page: int, size: int, owner: str | None = None
    ) -> tuple[list[ArticleRecord], int]:
        """One page of articles in id order, and the total.

        Optionally only those of one ``status``, or of one ``owner`` (an API key's name).
        """
        conditions, args = [], []
        if status:
            conditions.append("status = ?")
            args.append(status)
        if owner is not None:
            conditions.append("owner = ?")
            args.append(owner)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with self.db.read() as db:
            (total,) = db.execute(f"SELECT COUNT(*) FROM articles {where}", args).fetchone()
            rows = db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles {where} ORDER BY id LIMIT ? OFFSET ?",
                [*args, size, (page - 1) * size],
            ).fetchall()
        return [ArticleRecord.from_row(r) for r in rows], int(total)

    def recent_ready(self, owner: str, *, limit: int) -> list[ArticleRecord]:
        """``owner``'s articles with audio, most recently made first (a podcast feed)."""
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE owner = ? AND audio_key IS NOT NULL"
                " ORDER BY COALESCE(ready_at, updated) DESC, id LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [ArticleRecord.from_row(r) for r in rows]

    def ids(self) -> list[str]:
        """Every registered id."""
        with self.db.read() as db:
            return [str(r[0]) for r in db.execute("SELECT id FROM articles ORDER BY id")]

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
        with self.db.write() as db:
            row = db.execute(
                "SELECT title, source_kind, source, selector, status, owner "
                "FROM articles WHERE id = ?",
                (article_id,),
            ).fetchone()
            if row is not None and may_change is not None and not may_change(row[5]):
                raise ArticleTaken(
                    f"Mã bài viết '{article_id}' đã thuộc về một khóa API khác; hãy dùng mã "
                    "khác (this article id is registered by another API key: use another id)."
                )
            if row is None:
                db.execute(
                    "INSERT INTO articles (id, title, source_kind, source, selector, revision, "
                    "owner, version, status, created, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'queued', ?, ?)",
                    (article_id, title, kind, source, selector, revision, owner, now, now),
                )
                changed = True
            else:
                changed = tuple(row[:4]) != (title, kind, source, selector)
                db.execute(
                    "UPDATE articles SET title = ?, source_kind = ?, source = ?, selector = ?, "
                    "revision = ?, version = version + ?, updated = ? WHERE id = ?",
                    (title, kind, source, selector, revision, int(changed), now, article_id),
                )
            job_id = None
            if changed or (row is not None and row[4] == "failed"):
                job_id = _enqueue(db, article_id, reason=reason, priority=priority, now=now)
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
        with self.db.write() as db:
            cursor = db.execute(
                "UPDATE articles SET text = ?, sentences = ?, target_key = ?, updated = ? "
                "WHERE id = ? AND version = ?",
                (
                    text,
                    json.dumps(sentences, ensure_ascii=False),
                    target_key,
                    time.time(),
                    article_id,
                    version,
                ),
            )
        return cursor.rowcount == 1

    def set_status(self, article_id: str, status: str, *, error: str | None = None) -> None:
        """Set an article's status (and error, cleared unless given)."""
        with self.db.write() as db:
            db.execute(
                "UPDATE articles SET status = ?, error = ?, updated = ? WHERE id = ?",
                (status, error, time.time(), article_id),
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
        with self.db.write() as db:
            db.execute(
                "UPDATE articles SET audio_key = ?, audio_version = ?, chunk_keys = ?, "
                "engine = ?, duration_s = ?, chunks_total = ?, chunks_reused = ?, "
                "chunks_synthesised = ?, updated = ?, ready_at = ?, "
                "status = CASE WHEN ? THEN 'ready' ELSE 'queued' END, "
                "error = CASE WHEN ? THEN NULL ELSE error END WHERE id = ?",
                (
                    audio_key,
                    version,
                    json.dumps(chunk_keys),
                    engine,
                    duration_s,
                    total,
                    reused,
                    synthesised,
                    now,
                    now,
                    ready,
                    ready,
                    article_id,
                ),
            )

    def delete(
        self, article_id: str, *, may_change: Callable[[str | None], bool] | None = None
    ) -> ArticleRecord | None:
        """Remove an article and cancel its jobs; the removed record, or ``None``.

        ``None`` too when ``may_change(owner)``, asked in the same transaction, says no:
        nothing is removed.
        """
        with self.db.write() as db:
            row = db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            if row is None:
                return None
            record = ArticleRecord.from_row(row)
            if may_change is not None and not may_change(record.owner):
                return None
            db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            db.execute(
                "UPDATE jobs SET state = 'cancelled', finished = ? "
                "WHERE article_id = ? AND state IN ('queued', 'running')",
                (time.time(), article_id),
            )
        return record

    def audio_in_use(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` (article or chunk audio) some registered article still uses."""
        wanted = set(keys)
        used: set[str] = set()
        with self.db.read() as db:
            for audio_key, chunk_keys in db.execute(
                "SELECT audio_key, chunk_keys FROM articles WHERE audio_key IS NOT NULL"
            ):
                if audio_key in wanted:
                    used.add(audio_key)
                if chunk_keys:
                    used.update(wanted.intersection(json.loads(chunk_keys)))
        return used

    def texts(self) -> Iterable[tuple[str, int, str | None]]:
        """``(id, version, extracted text)`` of every article, for lexicon changes."""
        with self.db.read() as db:
            rows = db.execute("SELECT id, version, text FROM articles ORDER BY id").fetchall()
        return [(str(r[0]), int(r[1]), r[2]) for r in rows]

    def counts(self) -> dict[str, int]:
        """Articles per status."""
        with self.db.read() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM articles GROUP BY status").fetchall()
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
        with self.db.write() as db:
            if may_change is not None:
                row = db.execute(
                    "SELECT owner FROM articles WHERE id = ?", (article_id,)
                ).fetchone()
                if row is None or not may_change(row[0]):
                    raise article_not_found(article_id)
            job_id = _enqueue(
                db, article_id, reason=reason, priority=priority, now=time.time(), delay_s=delay_s
            )
        job = self.job(job_id)
        if job is None:
            raise RegistryError(f"job {job_id} vanished from the registry")
        return job

    def job(self, job_id: int) -> JobRecord | None:
        """A job by id."""
        with self.db.read() as db:
            row = db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRecord(*row) if row else None

    def latest_job(self, article_id: str) -> JobRecord | None:
        """The newest job of an article."""
        with self.db.read() as db:
            row = db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE article_id = ? ORDER BY id DESC LIMIT 1",
                (article_id,),
            ).fetchone()
        return JobRecord(*row) if row else None

    def claim(self, owner: str, *, lease_s: float) -> JobRecord | None:
        """Take the next due job (or one whose worker's lease ran out) for ``owner``.

        A job is never claimed while another job of the same article is running: its
        newer version waits for the older one to finish instead of racing it. The claim
        counts as a try (``attempts + 1``), in the same transaction: a process that dies
        while reading the job has used the try up.
        """
        now = time.time()
        with self.db.write() as db:
            row = db.execute(
                "SELECT j.id FROM jobs j WHERE "
                "((j.state = 'queued' AND j.not_before <= ?) "
                " OR (j.state = 'running' AND j.lease_until < ?)) "
                "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.article_id = j.article_id "
                " AND r.id != j.id AND r.state = 'running' AND r.lease_until >= ?) "
                "ORDER BY j.priority, j.id LIMIT 1",
                (now, now, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, "
                "attempts = attempts + 1, started = COALESCE(started, ?) WHERE id = ?",
                (owner, now + lease_s, now, row[0]),
            )
        return self.job(int(row[0]))

    def renew(self, job_id: int, owner: str, *, lease_s: float) -> bool:
        """Extend a running job's lease; False when this worker no longer holds it."""
        with self.db.write() as db:
            cursor = db.execute(
                "UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'running'",
                (time.time() + lease_s, job_id, owner),
            )
        return cursor.rowcount == 1

    def expire_leases(self, owners: Iterable[str], *, refund: bool = False) -> int:
        """Make the jobs of these workers claimable now; how many there were.

        For dead workers the try stays counted: the job may be what killed them. A worker
        handing its jobs back while it shuts down cleanly passes ``refund`` — stopping a
        service is not a failed try.
        """
        owners = list(owners)
        if not owners:
            return 0
        with self.db.write() as db:
            cursor = db.execute(
                f"UPDATE jobs SET lease_until = 0, attempts = MAX(0, attempts - ?) "
                f"WHERE state = 'running' AND owner IN ({','.join('?' * len(owners))})",
                [int(refund), *owners],
            )
        return cursor.rowcount

    def running_owners(self) -> set[str]:
        """Owners of running jobs."""
        with self.db.read() as db:
            return {
                str(r[0])
                for r in db.execute("SELECT DISTINCT owner FROM jobs WHERE state = 'running'")
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
        with self.db.write() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = ?, error = ?, chunks_total = ?, chunks_reused = ?, "
                "chunks_synthesised = ?, finished = ?, lease_until = NULL "
                "WHERE id = ? AND owner = ? AND state = 'running'",
                (state, error, total, reused, synthesised, time.time(), job_id, owner),
            )
        return cursor.rowcount == 1

    def retry_later(self, job_id: int, owner: str, *, delay_s: float, error: str) -> bool:
        """Put a failed try back in the queue, due in ``delay_s`` (the claim counted it)."""
        with self.db.write() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = 'queued', not_before = ?, error = ?, owner = NULL, "
                "lease_until = NULL "
                "WHERE id = ? AND owner = ? AND state = 'running'",
                (time.time() + delay_s, error, job_id, owner),
            )
        return cursor.rowcount == 1

    def next_due(self) -> float | None:
        """When the next job becomes claimable (a backoff or a lease ending), if any."""
        with self.db.read() as db:
            (queued,) = db.execute(
                "SELECT MIN(not_before) FROM jobs WHERE state = 'queued'"
            ).fetchone()
            (leased,) = db.execute(
                "SELECT MIN(lease_until) FROM jobs WHERE state = 'running'"
            ).fetchone()
        times = [t for t in (queued, leased) if t is not None]
        return min(times) if times else None

    def queue_depth(self) -> dict[str, int]:
        """Jobs queued and running."""
        with self.db.read() as db:
            rows = db.execute(
                "SELECT state, COUNT(*) FROM jobs WHERE state IN ('queued', 'running') "
                "GROUP BY state"
            ).fetchall()
        return {str(state): int(n) for state, n in rows}

    # -- the managed site lexicon -----------------------------------------------------------

    def lexicon(self) -> dict[str, str] | None:
        """The site lexicon editors manage, or ``None`` before it was ever stored."""
        with self.db.read() as db:
            managed = db.execute("SELECT value FROM state WHERE key = 'lexicon'").fetchone()
            if managed is None:
                return None
            rows = db.execute("SELECT written, reading FROM lexicon ORDER BY written").fetchall()
        return {str(w): str(r) for w, r in rows}

    def set_lexicon(self, entries: Mapping[str, str]) -> None:
        """Replace the managed site lexicon."""
        with self.db.write() as db:
            db.execute("DELETE FROM lexicon")
            db.executemany(
                "INSERT INTO lexicon (written, reading) VALUES (?, ?)", sorted(entries.items())
            )
            db.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('lexicon', 'managed')")


def article_not_found(article_id: str) -> ArticleNotFound:
    """The 404, worded the same whether the article is missing or another key's."""
    return ArticleNotFound(
        f"Không có bài viết '{article_id}' (no registered article with this id)."
    )


def _enqueue(
    db: sqlite3.Connection,
    article_id: str,
    *,
    reason: str,
    priority: int,
    now: float,
    delay_s: float = 0.0,
) -> int:
    """Queue (or merge into the queued) job of an article, inside the caller's transaction.

    An immediate job marks the article queued; a delayed one (trying Google's voice again
    later, over audio read by the fallback voice) leaves its status alone.
    """
    due = now + delay_s
    row = db.execute(
        "SELECT id FROM jobs WHERE article_id = ? AND state = 'queued' ORDER BY id LIMIT 1",
        (article_id,),
    ).fetchone()
    if row is not None:
        job_id = int(row[0])
        db.execute(
            "UPDATE jobs SET priority = MIN(priority, ?), not_before = MIN(not_before, ?) "
            "WHERE id = ?",
            (priority, due, job_id),
        )
    else:
        cursor = db.execute(
            "INSERT INTO jobs (article_id, reason, priority, state, not_before, created, "
            "article_owner) VALUES (?, ?, ?, 'queued', ?, ?, "
            "(SELECT owner FROM articles WHERE id = ?))",
            (article_id, reason, priority, due, now, article_id),
        )
        job_id = int(cursor.lastrowid or 0)
    if delay_s <= 0:
        db.execute(
            "UPDATE articles SET status = 'queued', error = NULL, updated = ? WHERE id = ? "
            "AND status != 'synthesising'",
            (now, article_id),
        )
    return job_id
