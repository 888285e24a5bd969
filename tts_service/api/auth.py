"""API keys for the editors' API: 401 without a key, 403 with a wrong one.

A key is sent as ``Authorization: Bearer <key>`` (or ``X-API-Key: <key>``). It is
compared with *every* configured key in constant time — hashes of equal length through
``hmac.compare_digest``, with no early exit — so neither the answer's timing nor its
content tells a caller how close a guess was, or which key it resembled. Keys are never
logged: only the matching key's ``name`` is kept, as the article's owner.

What a valid key may then reach (its own articles, or everything for an admin) is one
rule, :func:`tts_service.registry.access.may_access`, which the registry applies to every
operation a route hands it the key for.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from tts_service.settings import ApiKey, Settings

__all__ = ["ApiKeyDep", "find_key", "require_api_key"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tts-service"'}


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def find_key(keys: tuple[ApiKey, ...], presented: str) -> ApiKey | None:
    """The configured key equal to ``presented``, compared in constant time."""
    wanted = _digest(presented)
    found = None
    for key in keys:
        if hmac.compare_digest(_digest(key.key.get_secret_value()), wanted):
            found = key
    return found


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return ""
    return request.headers.get("x-api-key")


def require_api_key(request: Request) -> ApiKey:
    """Route dependency: the caller's API key, or 401 (none sent) / 403 (not a valid one)."""
    settings: Settings = request.app.state.settings
    presented = _presented(request)
    if not presented:
        raise HTTPException(
            401,
            "Cần khóa API: gửi 'Authorization: Bearer <khóa>' (an API key is required).",
            headers=_CHALLENGE,
        )
    key = find_key(settings.api_keys, presented)
    if key is None:
        raise HTTPException(403, "Khóa API không hợp lệ (the API key is not valid).")
    return key


ApiKeyDep = Annotated[ApiKey, Depends(require_api_key)]
