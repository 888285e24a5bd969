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

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tts_service.api.limits import ClientBuckets, client_key
from tts_service.console.schema import ensure_tables
from tts_service.console.tables import listen_days, listen_stops
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


def _upsert(conn: Connection, table: sa.Table, keys: dict[str, object]) -> None:
    """Make sure the row of ``keys`` exists (its counts at 0), on either dialect."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    conn.execute(insert(table).values(**keys).on_conflict_do_nothing())


def record(db: Database, event: ListenEvent, *, now: float | None = None) -> None:
    """Count ``event`` for its article and today's date (Vietnam's)."""
    day = _day(time.time() if now is None else now)
    column = _COLUMNS.get(event.event)
    with db.write() as conn:
        _upsert(conn, listen_days, {"article_id": event.article, "day": day})
        changes: dict[str, object] = {"seconds": listen_days.c.seconds + event.seconds}
        if column is not None:
            changes[column] = listen_days.c[column] + 1
        conn.execute(
            sa.update(listen_days)
            .where(listen_days.c.article_id == event.article, listen_days.c.day == day)
            .values(**changes)
        )
        if event.event == "stop" and event.sentence is not None:
            where = (listen_stops.c.article_id == event.article) & (
                listen_stops.c.sentence == event.sentence
            )
            _upsert(conn, listen_stops, {"article_id": event.article, "sentence": event.sentence})
            conn.execute(
                sa.update(listen_stops).where(where).values(stops=listen_stops.c.stops + 1)
            )


def day_figures(db: Database, article_id: str) -> list[DayFigures]:
    """The article's figures, newest day first."""
    t = listen_days.c
    with db.read() as conn:
        rows = conn.execute(
            sa.select(t.day, t.plays, t.q25, t.q50, t.q75, t.q100, t.seconds)
            .where(t.article_id == article_id)
            .order_by(t.day.desc())
        ).all()
    return [
        DayFigures(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), float(r[6]))
        for r in rows
    ]


def stops(db: Database, article_id: str) -> dict[int, int]:
    """How many listeners stopped at each sentence of the article."""
    t = listen_stops.c
    with db.read() as conn:
        rows = conn.execute(
            sa.select(t.sentence, t.stops).where(t.article_id == article_id).order_by(t.sentence)
        ).all()
    return {int(sentence): int(count) for sentence, count in rows}


async def _event(request: Request) -> ListenEvent:
    """The report, a JSON body whatever its Content-Type says.

    The player sends it with ``navigator.sendBeacon`` as the page goes away, and a beacon
    to another origin may only be ``text/plain`` (any other type needs a preflight the
    browser will not make for it), so the JSON arrives labelled as text.
    """
    try:
        return ListenEvent.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None


def _buckets(request: Request) -> ClientBuckets:
    state = request.app.state
    with _LOCK:
        buckets: ClientBuckets | None = getattr(state, "listen_buckets", None)
        if buckets is None:
            settings = state.settings
            buckets = ClientBuckets(settings.listens_per_minute, settings.listens_burst)
            state.listen_buckets = buckets
    return buckets


# Left out of the OpenAPI schema, as the player's own routes are: players call it, not
# integrators (docs/console.md documents it), and it has no Vietnamese text to show as the
# API docs' examples must.
@router.post(
    "/listens",
    status_code=204,
    include_in_schema=False,
    responses={code: {"model": ErrorResponse} for code in (400, 404, 422, 429)},
)
def listen(event: Annotated[ListenEvent, Depends(_event)], request: Request) -> Response:
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
    ensure_tables(db)  # once per database and process (the console may be unused yet)
    record(db, event)
    return Response(status_code=204)
