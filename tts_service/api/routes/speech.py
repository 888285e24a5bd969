"""Read an article aloud and serve its audio and timings."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, StreamingResponse

from tts_service.api.deps import AudioDep, ServiceDep
from tts_service.api.limits import get_read_guard, require_read_origin
from tts_service.jobs import JobState
from tts_service.live import follow
from tts_service.schemas import ErrorResponse, ReadRequest, ReadResponse
from tts_service.synthesis import ReadResult

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["speech"])

_ID = re.compile(r"[0-9a-f]{40}")
# Complete audio never changes under its id (the id is a hash of what it holds).
_IMMUTABLE = "public, max-age=31536000, immutable"
_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}
# The public read endpoint may also refuse the caller's origin or its budget (api.limits).
_READ_ERRORS: dict[int | str, dict[str, object]] = {
    **_ERRORS,
    202: {"model": ReadResponse, "description": "Audio is being made; it streams from audio_url."},
    400: {"model": ErrorResponse, "description": "The body could not be parsed."},
    403: {"model": ErrorResponse},
    429: {"model": ErrorResponse},
    502: {"model": ErrorResponse, "description": "The portal's page could not be fetched."},
    504: {"model": ErrorResponse, "description": "The portal's page took too long."},
}


def _answer(result: ReadResult, request: Request, response: Response) -> ReadResponse:
    if result.status is JobState.FAILED:
        raise HTTPException(
            503,
            "Không đọc được bài viết lúc này, xin thử lại sau (speech engines unavailable).",
            headers={"Retry-After": str(round(result.retry_after or 30))},
        )
    response.status_code = 200 if result.status is JobState.READY else 202
    base = str(request.url_for("audio", article_id=result.id)).removesuffix(".mp3")
    return ReadResponse(
        id=result.id,
        status=result.status,
        audio_url=f"{base}.mp3",
        vtt_url=f"{base}.vtt",
        duration_s=result.duration_s,
        engine=result.engine,
        chars=result.chars,
        title=result.title,
        queue_position=result.queue_position,
    )


def _check_id(article_id: str) -> None:
    if not _ID.fullmatch(article_id):
        raise HTTPException(404, "Không tìm thấy bài đọc (no audio with this id).")


@router.post(
    "/read",
    response_model=ReadResponse,
    responses=_READ_ERRORS,
    status_code=200,
    dependencies=[Depends(require_read_origin)],
)
def read(
    body: ReadRequest, request: Request, response: Response, service: ServiceDep
) -> ReadResponse:
    """Read an article (text, HTML or page URL): cached audio at once, new audio streams."""
    guard = get_read_guard(request)
    admit, charge = guard.admit(request, service), guard.charge(request, service)
    client = guard.client(request)
    if body.url is not None:
        result = service.read_url(
            body.url,
            selector=body.selector,
            engine=body.engine,
            voice=body.voice,
            admit=admit,
            charge=charge,
            client=client,
        )
    else:
        result = service.read(
            text=body.text,
            html=body.html,
            selector=body.selector,
            title=body.title,
            engine=body.engine,
            voice=body.voice,
            admit=admit,
            charge=charge,
            client=client,
        )
    return _answer(result, request, response)


@router.get(
    "/read",
    responses={**_READ_ERRORS, 303: {"description": "See the audio."}},
    dependencies=[Depends(require_read_origin)],
)
def read_link(
    url: str, request: Request, response: Response, service: ServiceDep, selector: str | None = None
) -> RedirectResponse:
    """Read a page by its URL from a plain link: redirects to the audio."""
    guard = get_read_guard(request)
    admit, charge = guard.admit(request, service), guard.charge(request, service)
    client = guard.client(request)
    result = service.read_url(url, selector=selector, admit=admit, charge=charge, client=client)
    answer = _answer(result, request, response)
    return RedirectResponse(answer.audio_url, status_code=303)


@router.get(
    "/read/{article_id}",
    response_model=ReadResponse,
    responses={**_ERRORS, 202: _READ_ERRORS[202]},
)
def status(
    article_id: str, request: Request, response: Response, service: ServiceDep
) -> ReadResponse:
    """The state of an article's audio."""
    _check_id(article_id)
    result = service.find(article_id)
    if result is None:
        raise HTTPException(404, "Không tìm thấy bài đọc (no audio with this id).")
    return _answer(result, request, response)


@router.get("/audio/{article_id}.mp3", name="audio", responses=_ERRORS, response_model=None)
@router.head("/audio/{article_id}.mp3", include_in_schema=False, response_model=None)
async def audio(
    article_id: str, request: Request, service: ServiceDep, responder: AudioDep
) -> Response:
    """The article's MP3: a static, seekable file once complete, a live stream before."""
    _check_id(article_id)
    stored = await run_in_threadpool(service.stored, article_id)
    if stored is not None:
        headers = {
            "Cache-Control": _IMMUTABLE if stored.key == article_id else "no-cache",
            "X-TTS-Engine": str(stored.meta["engine"]),
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
    job = service.job(article_id)
    if job is None:
        raise HTTPException(404, "Không tìm thấy bài đọc (no audio with this id).")
    if request.method == "HEAD":
        # Being made: its length is not known yet, and a HEAD must not wait for it.
        return Response(
            media_type="audio/mpeg",
            headers={"Cache-Control": "no-store", "X-TTS-Engine": job.engine},
        )
    # Someone is listening now: a registry job being pre-generated goes ahead of the rest.
    service.promote(job)
    # Queued is not failed: however long the queue, the stream starts with the first chunk
    # (articles take turns for the engines, so each starts within a turn of the others).
    await job.wait_started(None)
    if job.state is JobState.FAILED:
        raise HTTPException(
            503,
            "Không đọc được bài viết lúc này, xin thử lại sau (speech engines unavailable).",
            headers={"Retry-After": "30"},
        )
    # Complete but not stored (the disk was full), or in progress: the stored chunks (and
    # those the job kept when the cache refused them), followed as they come.
    headers = {"Cache-Control": "no-store", "X-TTS-Engine": job.engine}
    stream = follow(job, service.chunk_reader(job), timeout=service.settings.stream_timeout_s)
    return StreamingResponse(stream, media_type="audio/mpeg", headers=headers)


@router.get("/audio/{article_id}.vtt", name="vtt", responses=_ERRORS, response_model=None)
@router.head("/audio/{article_id}.vtt", include_in_schema=False, response_model=None)
async def vtt(
    article_id: str, request: Request, service: ServiceDep, responder: AudioDep
) -> Response:
    """The article's sentence timings as WebVTT; waits for the audio to be complete."""
    _check_id(article_id)
    stored = await run_in_threadpool(service.stored, article_id)
    if stored is None:
        job = service.job(article_id)
        if job is None:
            raise HTTPException(404, "Không tìm thấy bài đọc (no audio with this id).")
        await job.wait_finished(service.settings.stream_timeout_s)
        stored = await run_in_threadpool(service.stored, article_id)
        if stored is None:
            raise HTTPException(
                503,
                "Chưa có mốc thời gian cho bài đọc này, xin thử lại sau (timings not ready).",
                headers={"Retry-After": "5"},
            )
    return await run_in_threadpool(
        responder.respond,
        request,
        stored.vtt_key,
        size=stored.vtt_size,
        media_type="text/vtt; charset=utf-8",
        etag=f'"{stored.key}-vtt"',
        headers={"Cache-Control": _IMMUTABLE if stored.key == article_id else "no-cache"},
    )
