"""Podcast feeds: ``GET /v1/feeds/{feed}.xml``, one per API key that names a feed title."""

from __future__ import annotations

import hashlib
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from tts_service.api.deps import RegistryDep
from tts_service.api.responders import not_modified
from tts_service.feeds import FeedItem, render_feed
from tts_service.schemas import ErrorResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["feeds"])

# Podcast apps fetch the whole feed on every refresh; the newest episodes are what they need.
_FEED_ITEMS = 200


@router.get(
    "/feeds/{feed}.xml",
    response_class=Response,
    responses={
        200: {"content": {"application/rss+xml": {}}, "description": "RSS 2.0 podcast feed."},
        404: {"model": ErrorResponse},
        422: {"model": ErrorResponse, "description": "Not a feed name."},
    },
)
async def feed(
    feed: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")],
    request: Request,
    registry: RegistryDep,
) -> Response:
    """A podcast of the key's articles, newest first, each with its MP3 as enclosure."""
    keys = request.app.state.settings.api_keys
    title = next((k.feed_title for k in keys if k.name == feed and k.feed_title), None)
    if title is None:
        raise HTTPException(404, "Không có kênh podcast này (no such feed).")
    published = await run_in_threadpool(registry.published, feed, limit=_FEED_ITEMS)
    items = [
        FeedItem(
            id=record.id,
            title=record.title or record.id,
            summary=record.text or "",
            audio_url=str(request.url_for("article_audio", article_id=record.id)),
            audio_bytes=stored.mp3_size,
            duration_s=float(stored.meta["duration_s"]),
            published=record.ready_at or record.updated,
            version=stored.key[:16],
        )
        for record, stored in published
    ]
    versions = "|".join(f"{i.id}#{i.version}" for i in items)
    etag = '"' + hashlib.sha256(f"{title}|{versions}".encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    body = render_feed(
        title=title,
        feed_url=str(request.url),
        site_url=str(request.base_url),
        items=items,
        now=time.time(),
    )
    return Response(body, media_type="application/rss+xml; charset=utf-8", headers=headers)
