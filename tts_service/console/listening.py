"""Listening figures: what listeners' players report, counted per article and day.

``POST /v1/listens`` takes one event of a player playing a registered article: ``play``,
the ``25``/``50``/``75``/``100`` per cent marks reached, or ``stop`` with the sentence it
stopped at; each may carry the seconds listened since the player's last report. Nothing
about the listener is kept: no cookie is read or set, and the client's address is used
only, in memory, for the rate limit (``TTS_LISTENS_PER_MINUTE``). The console shows the
counts on each article's page.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from tts_service.api.limits import ClientBuckets, client_key
from tts_service.console.schema import ensure_tables
from tts_service.errors import ArticleNotFound
from tts_service.registry.articles import ArticleRegistry
from tts_service.registry.db import Database
from tts_service.schemas import ARTICLE_ID_PATTERN, ErrorResponse

__all__ = ["DayFigures", "ListenEvent", "day_figures", "record", "router", "stops"]

router = APIRouter(prefix="/v1", tags=["listening"])

_VIETNAM_OFFSET_S = 7 * 3600
_COLUMNS = {"play": "plays", "25": "q25", "50": "q50", "75": "q75", "100": "q100"}
_LOCK = threading.Lock()


class ListenEvent(BaseModel):
    """One report of a player playing a registered article."""

    article: Annotated[str, Field(pattern=ARTICLE_ID_PATTERN)]
    event: Literal["play", "25", "50", "75", "100", "stop"]
    # Seconds listened since the player's last report (an hour at most per report).
    seconds: Annotated[float, Field(ge=0, le=3600)] = 0.0
    # For "stop": the sentence the listener stopped at (the WebVTT cue s<N>).
    sentence: Annotated[int | None, Field(ge=0, le=100_000)] = None


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One article's figures for one day."""

    day: str
    plays: int
    q25: int
    q50: int
    q75: int
    q100: int
    seconds: float

    @property
    def completion(self) -> float:
        """Share of plays that reached the end (0 when nothing was played)."""
        return self.q100 / self.plays if self.plays else 0.0


def _day(now: float) -> str:
    return datetime.fromtimestamp(now + _VIETNAM_OFFSET_S, UTC).strftime("%Y-%m-%d")


def record(db: Database, event: ListenEvent, *, now: float | None = None) -> None:
    """Count ``event`` for its article and today's date (Vietnam's)."""
    day = _day(time.time() if now is None else now)
    column = _COLUMNS.get(event.event)
    with db.write() as conn:
        conn.execute(
            "INSERT INTO listen_days (article_id, day) VALUES (?, ?) "
            "ON CONFLICT (article_id, day) DO NOTHING",
            (event.article, day),
        )
        bump = f", {column} = {column} + 1" if column else ""
        conn.execute(
            f"UPDATE listen_days SET seconds = seconds + ?{bump} WHERE article_id = ? AND day = ?",
            (event.seconds, event.article, day),
        )
        if event.event == "stop" and event.sentence is not None:
            conn.execute(
                "INSERT INTO listen_stops (article_id, sentence, stops) VALUES (?, ?, 1) "
                "ON CONFLICT (article_id, sentence) DO UPDATE SET stops = stops + 1",
                (event.article, event.sentence),
            )


def day_figures(db: Database, article_id: str) -> list[DayFigures]:
    """The article's figures, newest day first."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT day, plays, q25, q50, q75, q100, seconds FROM listen_days "
            "WHERE article_id = ? ORDER BY day DESC",
            (article_id,),
        ).fetchall()
    return [
        DayFigures(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), float(r[6]))
        for r in rows
    ]


def stops(db: Database, article_id: str) -> dict[int, int]:
    """How many listeners stopped at each sentence of the article."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT sentence, stops FROM listen_stops WHERE article_id = ? ORDER BY sentence",
            (article_id,),
        ).fetchall()
    return {int(sentence): int(count) for sentence, count in rows}


def _buckets(request: Request) -> ClientBuckets:
    state = request.app.state
    with _LOCK:
        buckets: ClientBuckets | None = getattr(state, "listen_buckets", None)
        if buckets is None:
            settings = state.settings
            buckets = ClientBuckets(settings.listens_per_minute, settings.listens_burst)
            state.listen_buckets = buckets
    return buckets


@router.post(
    "/listens",
    status_code=204,
    responses={code: {"model": ErrorResponse} for code in (400, 404, 422, 429)},
)
def listen(event: ListenEvent, request: Request) -> Response:
    """Count one listening event of a registered article (no cookie, no address kept)."""
    client = client_key(request.client.host if request.client is not None else None)
    wait = _buckets(request).try_take(client)
    if wait is not None:
        raise HTTPException(
            429,
            "Quá nhiều báo cáo nghe, xin thử lại sau (too many listening reports).",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    registry: ArticleRegistry = request.app.state.registry
    try:
        registry.get(event.article)
    except ArticleNotFound:
        raise HTTPException(
            404, "Không có bài viết này (no registered article with this id)."
        ) from None
    db = registry.store.db
    if getattr(request.app.state, "listen_db", None) is not db:
        ensure_tables(db)  # once per registry: the tables may predate the console's use
        request.app.state.listen_db = db
    record(db, event)
    return Response(status_code=204)
