"""``tts-service pregenerate``: read a back catalogue into the registry before anyone asks.

The command runs beside the service, on the same cache and registry (the same ``TTS_*``
settings), so what it makes is what the button plays. Inputs are turned into
:class:`Source` entries (or :class:`Invalid` ones, reported and skipped):

- a folder of ``.html``/``.htm``/``.txt`` files, read recursively; the id is the path
  without its suffix, made safe: ``2024/tin-12.html`` → ``2024-tin-12``;
- a JSONL file, one ``{"id", "title"?, "revision"?, "selector"?, "text"|"html"|"url"}`` per
  line, checked exactly as ``PUT /v1/articles/{id}`` checks its body;
- a URL list (``--urls``), one page a line, ``#`` comments, ``id<TAB>url`` to choose the id.

:func:`run_batch` registers every source with :meth:`ArticleRegistry.put` (an article
already ready and unchanged costs nothing) and runs a :class:`WorkerPool` until every job
of the batch has ended, done or failed. Jobs live in the database: a batch that is killed
or interrupted loses nothing, and running it again waits for the jobs it left.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TextIO
from urllib.parse import urlsplit

from charset_normalizer import from_bytes
from pydantic import ValidationError
from tqdm import tqdm

from tts_service.api.errors import describe_validation
from tts_service.errors import InputError
from tts_service.registry.articles import PRIORITY_BATCH
from tts_service.registry.runtime import RegistryRuntime
from tts_service.registry.store import JobRecord
from tts_service.registry.worker import JobOutcome
from tts_service.schemas import ARTICLE_ID_PATTERN, ArticlePut
from tts_service.synthesis import SpeechService

__all__ = [
    "ARTICLE_ID",
    "FILE_SUFFIXES",
    "BatchReport",
    "Entry",
    "Failure",
    "Invalid",
    "Source",
    "fit_id",
    "folder_sources",
    "gather",
    "input_kind",
    "jsonl_sources",
    "path_id",
    "run_batch",
    "url_id",
    "url_sources",
]

logger = logging.getLogger(__name__)

# The editors' API's id pattern (``api/routes/articles.py``): ids made here must fit it.
ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)
FILE_SUFFIXES = (".html", ".htm", ".txt")
_MAX_ID = 128
_HASH_CHARS = 10
_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")
_PAGE_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_ENDED = ("done", "failed", "cancelled")
_PENDING = ("queued", "running")
# Jobs looked up in the database per poll: a batch of thousands costs milliseconds a second.
_POLL_BATCH = 200


# -- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One article to register: its id, where it came from, and one of text, HTML or URL."""

    id: str
    origin: str  # a path, or ``file:line``: for messages
    title: str | None = None
    text: str | None = None
    html: str | None = None
    url: str | None = None
    selector: str | None = None
    revision: str | None = None


@dataclass(frozen=True, slots=True)
class Invalid:
    """An input that is no article: a bad JSONL line, an unreadable file. Counted as failed."""

    origin: str
    message: str


Entry = Source | Invalid


def _ascii(raw: str) -> str:
    """Drop Vietnamese diacritics, so ``tin-nóng`` gives ``tin-nong``, not ``tin-n-ng``."""
    decomposed = unicodedata.normalize("NFKD", raw.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fit_id(raw: str) -> str:
    """A valid article id for ``raw`` (a path, a URL's host and path), always the same one.

    Characters outside ``[A-Za-z0-9._~-]`` become ``-``; an id longer than 128 characters
    is cut and ends with a hash of ``raw``, so two long names stay apart.
    """
    clean = _UNSAFE.sub("-", _ascii(raw)).strip("._~-")
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    if not clean:
        return f"article-{digest}"
    if len(clean) > _MAX_ID:
        clean = clean[: _MAX_ID - _HASH_CHARS - 1].rstrip("._~-") + "-" + digest
    return clean


def path_id(relative: PurePosixPath | Path) -> str:
    """The id of a file in a folder: its relative path without suffix, e.g. ``2024-tin-12``."""
    return fit_id(PurePosixPath(relative.as_posix()).with_suffix("").as_posix())


def url_id(url: str) -> str:
    """The id of a page: host (without ``www.``), path without ``.html``, query.

    ``https://www.baochinhphu.vn/2024/tin-12.htm`` → ``baochinhphu.vn-2024-tin-12``.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    path = _PAGE_SUFFIX.sub("", parts.path.rstrip("/"))
    return fit_id(host + path + (f"?{parts.query}" if parts.query else ""))


def _decode(data: bytes) -> str | None:
    """Text of a file: UTF-8 (with or without BOM), else the charset detected; None if none."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        return str(best) if best is not None else None


def folder_sources(root: Path) -> Iterator[Entry]:
    """The ``.html``/``.htm``/``.txt`` files under ``root``, in path order; hidden ones skipped."""
    files = sorted(
        (
            path.relative_to(root)
            for path in root.rglob("*")
            if path.suffix.lower() in FILE_SUFFIXES
        ),
        key=lambda p: p.as_posix(),
    )
    for relative in files:
        if any(part.startswith(".") for part in relative.parts) or not (root / relative).is_file():
            continue
        origin = (root / relative).as_posix()
        try:
            content = _decode((root / relative).read_bytes())
        except OSError as exc:
            yield Invalid(origin, f"cannot read the file: {exc.strerror or exc}")
            continue
        if content is None:
            yield Invalid(origin, "the file is not text in any known encoding")
            continue
        is_html = relative.suffix.lower() != ".txt"
        yield Source(
            path_id(relative),
            origin,
            text=None if is_html else content,
            html=content if is_html else None,
        )


def _lines(path: Path) -> Iterator[tuple[str, str] | Invalid]:
    """``(origin, stripped line)`` per non-blank line, or :class:`Invalid` if not UTF-8.

    ``origin`` is ``path:number``, so a failure names the line to fix.
    """
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            origin = f"{path}:{number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                yield Invalid(origin, "the line is not UTF-8")
                continue
            if line:
                yield origin, line


def jsonl_sources(path: Path) -> Iterator[Entry]:
    """One source per line of a JSONL file; a bad line is an :class:`Invalid` with its number."""
    for item in _lines(path):
        yield item if isinstance(item, Invalid) else _jsonl_entry(item[1], item[0])


def _jsonl_entry(line: str, origin: str) -> Entry:
    """Check one JSONL line like the API's ``PUT`` body; its ``id`` like the API's path."""
    try:
        item: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        return Invalid(origin, f"not JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(item, dict):
        return Invalid(origin, "expected a JSON object with an 'id'")
    article_id = item.pop("id", None)
    if not isinstance(article_id, str) or not ARTICLE_ID.fullmatch(article_id):
        return Invalid(
            origin,
            f"id: {article_id!r} is not a valid article id ({ARTICLE_ID.pattern})",
        )
    try:
        body = ArticlePut.model_validate(item)
    except ValidationError as exc:
        return Invalid(origin, describe_validation(exc.errors()))
    return Source(
        article_id,
        origin,
        title=body.title,
        text=body.text,
        html=body.html,
        url=body.url,
        selector=body.selector,
        revision=body.revision,
    )


def url_sources(path: Path) -> Iterator[Entry]:
    """One source per URL line (``url`` or ``id<TAB>url``); ``#`` lines are comments."""
    for item in _lines(path):
        if isinstance(item, Invalid):
            yield item
            continue
        origin, line = item
        if line.startswith("#"):
            continue
        given, tab, url = line.partition("\t")
        if not tab:
            given, url = "", given
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            yield Invalid(origin, f"not an http(s) URL: {url[:200]!r}")
        elif len(url) > 2048:
            yield Invalid(origin, "the URL is longer than 2048 characters")
        elif tab and not ARTICLE_ID.fullmatch(given.strip()):
            yield Invalid(origin, f"{given!r} is not a valid article id")
        else:
            yield Source(given.strip() or url_id(url), origin, url=url)


def input_kind(path: Path) -> Literal["folder", "jsonl"]:
    """What an input argument is; ``ValueError`` for anything else."""
    if path.is_dir():
        return "folder"
    if path.is_file() and path.suffix.lower() in _JSONL_SUFFIXES:
        return "jsonl"
    raise ValueError(f"{path}: expected a folder or a .jsonl file")


def gather(inputs: Sequence[Path], url_lists: Sequence[Path] = ()) -> Iterator[Entry]:
    """Every entry of the inputs, in the order given, then of the URL lists; read lazily."""
    for path in inputs:
        if input_kind(path) == "folder":
            yield from folder_sources(path)
        else:
            yield from jsonl_sources(path)
    for path in url_lists:
        yield from url_sources(path)


# -- the run -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """An article (or input line) that did not make it, and why."""

    id: str
    message: str


@dataclass(slots=True)
class BatchReport:
    """What a batch did, for the summary and the exit code."""

    registered: int = 0  # queued for synthesis by this run (new, changed, failed before)
    resumed: int = 0  # a job an earlier run left queued or running, waited for
    skipped: int = 0  # already ready and unchanged
    synthesised: int = 0  # jobs of this batch that ended done
    chunks_reused: int = 0
    chunks_synthesised: int = 0
    failures: list[Failure] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    unfinished: int = 0  # jobs still queued or running when interrupted

    @property
    def exit_code(self) -> int:
        """0 when all is well, 1 when anything failed, 130 when interrupted (as for SIGINT)."""
        if self.interrupted:
            return 130
        return 1 if self.failures else 0

    def summary(self) -> str:
        """The lines printed at the end of a run: counts, chunks, time, then the failures."""
        minutes = self.elapsed_s / 60
        rate = self.synthesised / minutes if minutes > 0 else 0.0
        rows = [
            ("registered", str(self.registered)),
            *([("resumed (already queued)", str(self.resumed))] if self.resumed else []),
            ("skipped (already ready)", str(self.skipped)),
            ("synthesised", str(self.synthesised)),
            ("failed", str(len(self.failures))),
            ("chunks", f"{self.chunks_reused} reused, {self.chunks_synthesised} synthesised"),
            ("elapsed", f"{_duration(self.elapsed_s)}, {rate:.1f} articles/min"),
        ]
        width = max(len(label) for label, _ in rows) + 2
        lines = [f"{label + ':':<{width}}{value}" for label, value in rows]
        if self.failures:
            lines.append("failures:")
            lines.extend(f"  {f.id}: {f.message}" for f in self.failures)
        return "\n".join(lines)


def _duration(seconds: float) -> str:
    """``42.0 s`` or ``1 h 02 min 05 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"


class _Batch:
    """One run: registers the entries, then follows their jobs until each has ended.

    Jobs end in this process's pool (reported through ``on_outcome``) or in another
    process sharing the database, such as the service: those are found by looking at the
    jobs' rows, a few hundred a second, round robin.
    """

    def __init__(self, runtime: RegistryRuntime, *, owner: str | None, bar: Any) -> None:
        self.runtime = runtime
        self.owner = owner
        self.bar = bar
        self.report = BatchReport()
        self.pending: dict[int, str] = {}  # job id → article id
        self._order: deque[int] = deque()  # pending job ids, in polling order
        self._seen: dict[str, str] = {}  # article id → origin, to refuse duplicates
        self._ended: dict[int, JobOutcome] = {}
        self._news = threading.Condition()
        self._drawn = 0.0

    def on_outcome(self, outcome: JobOutcome) -> None:
        """Called by worker threads: note a job that ended and wake the main thread."""
        if outcome.state in _ENDED:
            with self._news:
                self._ended[outcome.job_id] = outcome
                self._news.notify_all()

    # -- registering -------------------------------------------------------------------

    def register(self, entry: Entry) -> None:
        """Put one entry into the registry; follow its job, if it has one."""
        if isinstance(entry, Invalid):
            self._fail(entry.origin, entry.message)
            return
        first = self._seen.get(entry.id)
        if first is not None:
            clash = "listed twice" if first == entry.origin else f"same id as {first}"
            self._fail(entry.id, f"{entry.origin}: {clash}; it was read once, from {first}")
            return
        self._seen[entry.id] = entry.origin
        registry = self.runtime.registry
        try:
            put = registry.put(
                entry.id,
                title=entry.title,
                text=entry.text,
                html=entry.html,
                url=entry.url,
                selector=entry.selector,
                revision=entry.revision,
                owner=self.owner,
                priority=PRIORITY_BATCH,
                reason="batch",
            )
        except InputError as exc:
            self._fail(entry.id, str(exc))
            return
        if put.job is not None:
            self.report.registered += 1
            self._follow(put.job.id, entry.id)
        elif put.article.status == "ready":
            self.report.skipped += 1
        else:
            # Unchanged, not ready: its job is already queued or running (left by a run
            # that was killed, or queued by the CMS). That job resumes; wait for it.
            latest = registry.store.latest_job(entry.id)
            if latest is not None and latest.state in _PENDING:
                self.report.resumed += 1
                self._follow(latest.id, entry.id)
            else:
                job = registry.store.enqueue(entry.id, reason="batch", priority=PRIORITY_BATCH)
                if registry.queued is not None:
                    registry.queued()
                self.report.registered += 1
                self._follow(job.id, entry.id)

    def _follow(self, job_id: int, article_id: str) -> None:
        self.pending[job_id] = article_id
        self._order.append(job_id)
        self.bar.total += 1
        self._draw()

    def _fail(self, name: str, message: str) -> None:
        self.report.failures.append(Failure(name, message))
        self.bar.set_postfix(failed=len(self.report.failures), refresh=False)
        self._draw()

    def _draw(self) -> None:
        """Redraw the bar after a change of total or postfix, at most five times a second."""
        now = time.monotonic()
        if now - self._drawn >= 0.2:
            self._drawn = now
            self.bar.refresh()

    # -- waiting -----------------------------------------------------------------------

    def wait(self, *, poll_s: float) -> None:
        """Until every followed job has ended: woken by the pool, checking the rows too."""
        last_poll = 0.0
        while self.pending:
            with self._news:
                self._news.wait_for(self._has_news, timeout=poll_s)
            self.collect()
            if time.monotonic() - last_poll >= poll_s:
                self.poll()
                last_poll = time.monotonic()

    def _has_news(self) -> bool:
        return not self._ended.keys().isdisjoint(self.pending)

    def collect(self) -> None:
        """Settle the jobs this process's pool reported ended."""
        with self._news:
            mine = [self._ended.pop(i) for i in list(self._ended) if i in self.pending]
        for outcome in mine:
            self._settle(outcome.job_id, outcome.state, outcome.counts, outcome.error)

    def poll(self) -> None:
        """Look at the next few hundred followed jobs' rows (ended in another process?)."""
        store = self.runtime.registry.store
        for _ in range(min(_POLL_BATCH, len(self._order))):
            job_id = self._order.popleft()
            if job_id not in self.pending:
                continue
            job = store.job(job_id)
            if job is None or job.state in _ENDED:
                self._settle(job_id, job.state if job else "cancelled", _counts(job), _error(job))
            else:
                self._order.append(job_id)

    def _settle(
        self,
        job_id: int,
        state: str,
        counts: tuple[int, int, int] | None,
        error: str | None,
    ) -> None:
        """Count a followed job that ended (a cancelled one hands over to its successor)."""
        article_id = self.pending.pop(job_id, None)
        if article_id is None:
            return
        if state == "cancelled":
            # Edited again (by the CMS) while queued: the newer job reads the newer text.
            state, counts, error = self._after_cancel(article_id)
            if state == "pending":
                return
        if state == "done":
            self.report.synthesised += 1
            if counts is not None:
                self.report.chunks_reused += counts[1]
                self.report.chunks_synthesised += counts[2]
        else:
            self._fail(article_id, error or "synthesis failed")
        self.bar.update(1)

    def _after_cancel(self, article_id: str) -> tuple[str, tuple[int, int, int] | None, str | None]:
        store = self.runtime.registry.store
        latest = store.latest_job(article_id)
        if latest is not None and latest.state in _PENDING:
            self.pending[latest.id] = article_id
            self._order.append(latest.id)
            return "pending", None, None
        record = store.get(article_id)
        if record is None:
            return "failed", None, "the article was deleted while the batch ran"
        if record.status == "ready":
            return "done", None, None
        return "failed", None, record.error or "its job was cancelled"


def _counts(job: JobRecord | None) -> tuple[int, int, int] | None:
    if job is None or job.chunks_total is None:
        return None
    return job.chunks_total, job.chunks_reused or 0, job.chunks_synthesised or 0


def _error(job: JobRecord | None) -> str | None:
    return job.error if job is not None else "the job vanished from the registry"


def run_batch(
    service: SpeechService,
    entries: Iterable[Entry],
    *,
    workers: int,
    owner: str | None = None,
    progress: TextIO | None = None,
    poll_s: float = 1.0,
) -> BatchReport:
    """Register ``entries`` and read them with ``workers`` threads; return what happened.

    The pool starts first, so synthesis runs while the rest is being registered. Ctrl-C
    stops the run cleanly: the report says ``interrupted`` and the jobs left stay queued
    in the registry, for the next run (or the service) to resume. ``owner=None`` keeps the
    owner of an article a CMS registered, so its webhook still hears about the new audio.
    ``progress`` is where the bar goes (stderr by default; none when it is not a terminal).
    """
    started = time.monotonic()
    runtime = RegistryRuntime(service, workers=workers)
    bar = tqdm(
        total=0,
        unit="bài",
        desc="pregenerate",
        file=progress if progress is not None else sys.stderr,
        disable=None,
        dynamic_ncols=True,
    )
    batch = _Batch(runtime, owner=owner, bar=bar)
    runtime.pool.on_outcome = batch.on_outcome
    try:
        runtime.start()
        for entry in entries:
            batch.register(entry)
            batch.collect()
        batch.wait(poll_s=poll_s)
    except KeyboardInterrupt:
        batch.report.interrupted = True
        logger.info("batch interrupted; %d jobs stay queued", len(batch.pending))
    finally:
        # Jobs running when interrupted get a moment to end; count those that do.
        runtime.pool.close()
        batch.collect()
        bar.close()
        runtime.close()
    batch.report.unfinished = len(batch.pending)
    batch.report.elapsed_s = time.monotonic() - started
    return batch.report
