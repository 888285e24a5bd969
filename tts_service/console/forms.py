"""Reading the console's form posts (``application/x-www-form-urlencoded``).

The console's forms send only short text fields, so they are parsed here with the
standard library rather than with a multipart parser the service would not otherwise
need. Values are NFC, as everything the service stores.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl

from fastapi import Request

__all__ = ["FormError", "read_form"]

# A lexicon change with its try-it sentence is well under this; the body limit of the
# whole service (TTS_MAX_BODY_BYTES) still applies first.
MAX_FORM_BYTES = 64 * 1024


class FormError(ValueError):
    """Raised when a post is not a form the console sent."""


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields (the last value of a repeated name), NFC-normalised."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormError("not a form post")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormError("form too large")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("form not UTF-8") from exc
    return {name: unicodedata.normalize("NFC", value) for name, value in pairs}
