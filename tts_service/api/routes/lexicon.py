"""The site lexicon, edited by editors: how the portal's own abbreviations are read.

Every key may read it (a CMS shows editors how words will be read); only an admin key may
change it, since it changes how every article of the site is read (``registry.access``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from tts_service.api.auth import ApiKeyDep, require_api_key
from tts_service.api.deps import RegistryDep
from tts_service.schemas import ErrorResponse, LexiconBody, LexiconOut

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["lexicon"], dependencies=[Depends(require_api_key)])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "The body could not be parsed."},
    401: {"model": ErrorResponse, "description": "No API key was sent."},
    403: {
        "model": ErrorResponse,
        "description": "The API key is not valid, or (PUT) is not an admin key.",
    },
    412: {"model": ErrorResponse, "description": "The lexicon changed since it was read."},
    422: {"model": ErrorResponse},
}


@router.get("/lexicon", response_model=LexiconOut, responses=_ERRORS)
def get_lexicon(registry: RegistryDep, response: Response) -> LexiconOut:
    """The site lexicon; send its ``ETag`` back as ``If-Match`` when you change it."""
    entries, etag = registry.lexicon()
    response.headers["ETag"] = f'"{etag}"'
    return LexiconOut(entries=entries, etag=etag)


@router.put("/lexicon", response_model=LexiconOut, responses=_ERRORS)
def put_lexicon(
    body: LexiconBody,
    registry: RegistryDep,
    response: Response,
    key: ApiKeyDep,
    if_match: Annotated[str | None, Header()] = None,
) -> LexiconOut:
    """Replace the site lexicon (admin keys); the articles it reads differently are re-queued."""
    change = registry.set_lexicon(body.entries, if_match=if_match, key=key)
    response.headers["ETag"] = f'"{change.etag}"'
    return LexiconOut(entries=change.entries, etag=change.etag, requeued=change.requeued)
