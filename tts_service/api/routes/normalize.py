"""The editor's preview: the exact text that will be read, and why."""

from __future__ import annotations

from fastapi import APIRouter, Request

from tts_service.api.deps import ServiceDep
from tts_service.api.limits import get_read_guard
from tts_service.schemas import (
    ArticleOut,
    ErrorResponse,
    NormalizeRequest,
    NormalizeResponse,
    RewriteOut,
    SentenceOut,
    UnknownOut,
)
from tts_service.text.unknown import find_unknown

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["normalize"])


# Every error status this route can answer: a body that is not UTF-8 (FastAPI's 400), a
# refused, too large, unreachable or slow page (403/413/502/504) when reading by URL, too
# long, unreadable or too complex text (413/422), the client's text budget spent (429) and
# every text worker busy (503).
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 403, 413, 422, 429, 502, 503, 504)
}


@router.post("/normalize", response_model=NormalizeResponse, responses=_ERRORS)
def normalize(body: NormalizeRequest, request: Request, service: ServiceDep) -> NormalizeResponse:
    """Show what will be read: the extracted article, each spoken sentence, every rewrite."""
    # Before any fetching or processing: a client out of budget costs nothing.
    get_read_guard(request).check_text(request)
    if body.url is not None:
        article = service.fetch_article(body.url, selector=body.selector)
    else:
        article = service.extract(text=body.text, html=body.html, selector=body.selector)
    document = service.normalize(article.text)
    return NormalizeResponse(
        article=ArticleOut(
            title=article.title,
            lead=article.lead,
            paragraphs=list(article.paragraphs),
            byline=article.byline,
        ),
        spoken_text=document.spoken_text,
        sentences=[
            SentenceOut(
                index=s.index,
                paragraph=s.paragraph,
                text=s.text,
                start=s.start,
                end=s.end,
                spoken=s.spoken,
                rewrites=[
                    RewriteOut(
                        start=r.start, end=r.end, source=r.source, spoken=r.spoken, rule=r.rule
                    )
                    for r in s.rewrites
                ],
            )
            for s in document.sentences
        ],
        unknown=[
            UnknownOut(start=u.start, end=u.end, token=u.token, spoken=u.spoken)
            for u in find_unknown(document)
        ],
    )
