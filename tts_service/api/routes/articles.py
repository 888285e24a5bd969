"""The editors' API: register, update, list, regenerate and delete portal articles.

Writes and the editors' views need an API key (``api.auth``), and reach only the articles
that key may (``registry.access``): a CMS key its own, an admin key every one; another
key's article or job answers 404, as one that does not exist. The button's reads —
audio, timings and transcript of a registered article — need none: pre-generated audio is
served from disk at once, by the portal's own article id.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, RedirectResponse

from tts_service.api.auth import ApiKeyDep
from tts_service.api.deps import AudioDep, RegistryDep
from tts_service.registry.articles import PRIORITIES, ArticleRegistry, priority_name
from tts_service.registry.store import ArticleRecord, JobRecord
from tts_service.schemas import (
    ARTICLE_ID_PATTERN,
    ArticlePage,
    ArticlePut,
    ChunkCounts,
    ErrorResponse,
    JobOut,
    RegisteredArticle,
    Transcript,
    TranscriptSentence,
)

__all__ = ["job_out", "router"]

router = APIRouter(prefix="/v1", tags=["articles"])

ArticleId = Annotated[
    str,
    Path(
        pattern=ARTICLE_ID_PATTERN,
        description="The portal's article id, e.g. `2024-07-tin-123`.",
    ),
]
_KEYED: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "The body could not be parsed."},
    401: {"model": ErrorResponse, "description": "No API key was sent."},
    403: {"model": ErrorResponse, "description": "The API key is not valid."},
    404: {
        "model": ErrorResponse,
        "description": "No such article (or job), or another API key's: a CMS key sees its own.",
    },
    422: {"model": ErrorResponse},
}
# Job ids are SQLite integers: a larger one is no job at all, not a server error.
_PUBLIC: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse, "description": "The audio is not ready yet."},
}
# Longest a client may wait for a job with ?wait=.
MAX_WAIT_S = 60.0


def _counts(total: int | None, reused: int | None, made: int | None) -> ChunkCounts | None:
    if total is None:
        return None
    return ChunkCounts(total=total, reused=reused or 0, synthesised=made or 0)


def job_out(job: JobRecord) -> JobOut:
    """The API's view of a persistent job."""
    return JobOut(
        id=job.id,
        article_id=job.article_id,
        reason=job.reason,
        priority=priority_name(job.priority),
        state=job.state,
        attempts=job.attempts,
        error=job.error,
        chunks=_counts(job.chunks_total, job.chunks_reused, job.chunks_synthesised),
        created=job.created,
        started=job.started,
        finished=job.finished,
    )


def _out(
    record: ArticleRecord, request: Request, job: JobRecord | None = None
) -> RegisteredArticle:
    base = str(request.url_for("article_audio", article_id=record.id)).removesuffix("/audio")
    return RegisteredArticle(
        id=record.id,
        title=record.title,
        revision=record.revision,
        source_kind=record.source_kind,
        status=record.status,
        stale=record.stale,
        audio_url=f"{base}/audio",
        vtt_url=f"{base}/vtt",
        transcript_url=f"{base}/transcript",
        has_audio=record.audio_key is not None,
        duration_s=record.duration_s,
        engine=record.engine,
        error=record.error,
        chunks=_counts(record.chunks_total, record.chunks_reused, record.chunks_synthesised),
        job=job_out(job) if job is not None else None,
        created=record.created,
        updated=record.updated,
        ready_at=record.ready_at,
    )


@router.put(
    "/articles/{article_id}",
    response_model=RegisteredArticle,
    responses={
        **_KEYED,
        202: {"model": RegisteredArticle, "description": "Queued: its audio is being made."},
        403: {
            "model": ErrorResponse,
            "description": (
                "The API key is not valid, or the URL may not be fetched (e.g. its host is "
                "not on TTS_FETCH_ALLOWED_HOSTS), as POST /v1/read answers; nothing is stored."
            ),
        },
        409: {
            "model": ErrorResponse,
            "description": "The id is another API key's article; nothing is stored.",
        },
        413: {"model": ErrorResponse},
    },
)
def put_article(
    article_id: ArticleId,
    body: ArticlePut,
    request: Request,
    response: Response,
    registry: RegistryDep,
    key: ApiKeyDep,
) -> RegisteredArticle:
    """Register or update an article; 202 with its job, or 200 when nothing read changed."""
    outcome = registry.put(
        article_id,
        title=body.title,
        text=body.text,
        html=body.html,
        url=body.url,
        selector=body.selector,
        revision=body.revision,
        key=key,
        # An archive imported through the API waits behind today's articles, as the
        # pregenerate command's batches do.
        priority=PRIORITIES[body.priority],
        reason="batch" if body.priority == "batch" else "put",
    )
    response.status_code = 202 if outcome.job is not None else 200
    job = outcome.job or registry.store.latest_job(article_id)
    return _out(outcome.article, request, job)


@router.get("/articles/{article_id}", response_model=RegisteredArticle, responses=_KEYED)
def get_article(
    article_id: ArticleId, request: Request, registry: RegistryDep, key: ApiKeyDep
) -> RegisteredArticle:
    """An article's status, audio, timings and transcript links, and its latest job."""
    record = registry.get(article_id, key=key)
    return _out(record, request, registry.store.latest_job(article_id))


@router.get("/articles", response_model=ArticlePage, responses=_KEYED)
def list_articles(
    request: Request,
    registry: RegistryDep,
    key: ApiKeyDep,
    status: Annotated[str | None, Query(pattern="^(queued|synthesising|ready|failed)$")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> ArticlePage:
    """The key's articles (an admin key's: all) in id order, optionally of one status."""
    records, total, pages = registry.page(key=key, status=status, page=page)
    return ArticlePage(
        items=[_out(r, request) for r in records], page=page, pages=pages, total=total
    )


@router.post(
    "/articles/{article_id}/regenerate",
    response_model=RegisteredArticle,
    status_code=202,
    responses=_KEYED,
)
def regenerate(
    article_id: ArticleId, request: Request, registry: RegistryDep, key: ApiKeyDep
) -> RegisteredArticle:
    """Read the article again as it is now (after a fix to the engine or the normaliser)."""
    job = registry.regenerate(article_id, key=key)
    return _out(registry.get(article_id, key=key), request, job)


@router.delete("/articles/{article_id}", status_code=204, responses=_KEYED)
def delete_article(article_id: ArticleId, registry: RegistryDep, key: ApiKeyDep) -> Response:
    """Remove an article and the audio no other registered article shares."""
    registry.delete(article_id, key=key)
    return Response(status_code=204)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=_KEYED)
async def get_job(
    job_id: int,
    registry: RegistryDep,
    key: ApiKeyDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
) -> JobOut:
    """A job's state; with ``wait`` (seconds), answers as soon as it ends or the wait is up."""
    if not 0 < job_id < 2**63:
        # Job ids are positive 64-bit database rows: nothing else can be looked up.
        raise HTTPException(404, "Không có tác vụ này (no job with this id).")
    # Registered before the state is read: a job ending in between still wakes us.
    ended = registry.job_ended(job_id) if wait > 0 else None
    try:
        job = await run_in_threadpool(registry.job, job_id, key=key)
        if job is None:
            raise HTTPException(404, "Không có tác vụ này (no job with this id).")
        if ended is not None and job.state in ("queued", "running"):
            try:
                await asyncio.wait_for(ended.wait(), wait)
            except TimeoutError:
                pass
            job = await run_in_threadpool(registry.job, job_id, key=key)
            if job is None:
                raise HTTPException(404, "Không có tác vụ này (no job with this id).")
    finally:
        if ended is not None:
            registry.forget_waiter(job_id, ended)
    return job_out(job)


# -- the button's reads: no key ------------------------------------------------------------


async def _record(registry: ArticleRegistry, article_id: str) -> ArticleRecord:
    return await run_in_threadpool(registry.get, article_id)


def _not_ready(record: ArticleRecord) -> HTTPException:
    if record.status == "failed":
        message = "Không đọc được bài viết này (the article's audio could not be made)."
    else:
        message = "Âm thanh của bài đang được chuẩn bị, xin thử lại sau (audio not ready yet)."
    return HTTPException(503, message, headers={"Retry-After": "10"})


@router.get(
    "/articles/{article_id}/audio",
    name="article_audio",
    responses={**_PUBLIC, 307: {"description": "The audio is streaming while it is made."}},
    response_model=None,
)
@router.head("/articles/{article_id}/audio", include_in_schema=False, response_model=None)
async def article_audio(
    article_id: ArticleId, request: Request, registry: RegistryDep, responder: AudioDep
) -> Response:
    """The registered article's MP3: pre-generated, seekable, served from disk."""
    record = await _record(registry, article_id)
    stored = await run_in_threadpool(registry.audio, record)
    if stored is None:
        # Not made yet, but being read in this process: listen to it as it is made.
        target = record.target_key
        if target is not None and registry.service.job(target) is not None:
            return RedirectResponse(
                str(request.url_for("audio", article_id=target)), status_code=307
            )
        raise _not_ready(record)
    headers = {
        # The id stays, the audio changes when the article is edited: revalidate.
        "Cache-Control": "no-cache",
        "X-TTS-Engine": str(stored.meta["engine"]),
        "X-TTS-Stale": "1" if record.stale else "0",
    }
    return await run_in_threadpool(
        responder.respond,
        request,
        stored.mp3_key,
        size=stored.mp3_size,
        media_type="audio/mpeg",
        etag=f'"{stored.key}"',
        headers=headers,
    )


@router.get("/articles/{article_id}/vtt", responses=_PUBLIC, response_model=None)
@router.head("/articles/{article_id}/vtt", include_in_schema=False, response_model=None)
async def article_vtt(
    article_id: ArticleId, request: Request, registry: RegistryDep, responder: AudioDep
) -> Response:
    """The timings of the audio ``/audio`` serves, one WebVTT cue per sentence."""
    record = await _record(registry, article_id)
    stored = await run_in_threadpool(registry.audio, record)
    if stored is None:
        raise _not_ready(record)
    return await run_in_threadpool(
        responder.respond,
        request,
        stored.vtt_key,
        size=stored.vtt_size,
        media_type="text/vtt; charset=utf-8",
        etag=f'"{stored.key}-vtt"',
        headers={"Cache-Control": "no-cache"},
    )


@router.get(
    "/articles/{article_id}/transcript",
    response_model=Transcript,
    responses={**_PUBLIC, 200: {"content": {"text/plain": {}}}},
)
async def article_transcript(
    article_id: ArticleId,
    registry: RegistryDep,
    format: Annotated[str, Query(pattern="^(json|text)$")] = "json",  # noqa: A002
) -> Transcript | PlainTextResponse:
    """The exact words read, sentence by sentence, with times; ``format=text`` for braille."""
    record = await _record(registry, article_id)
    lines = await run_in_threadpool(registry.transcript, record)
    if format == "text":
        # One sentence per line, a blank line between paragraphs: what a braille display
        # or a screen reader moves through line by line.
        out: list[str] = [record.title, ""] if record.title else []
        last = None
        for line in lines:
            if last is not None and line.paragraph != last:
                out.append("")
            last = line.paragraph
            stamp = f"[{_clock(line.start)}] " if line.start is not None else ""
            out.append(f"{stamp}{line.spoken}")
        return PlainTextResponse("\n".join(out) + "\n")
    return Transcript(
        id=record.id,
        title=record.title,
        stale=record.stale,
        sentences=[
            TranscriptSentence(
                index=line.index,
                paragraph=line.paragraph,
                start=line.start,
                end=line.end,
                text=line.text,
                spoken=line.spoken,
            )
            for line in lines
        ],
    )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
