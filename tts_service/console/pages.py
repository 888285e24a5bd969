"""Rendering the console's pages: templates, the values they format, and security headers.

Every page is rendered by Jinja2 with autoescaping, so an article's title or text is shown
as written, never run (``<script>`` in a title is text). The pages run only the service's
own script and style: the Content-Security-Policy has no ``unsafe-inline``, forbids
framing (``frame-ancestors 'none'``) and lets forms post only to the service.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tts_service.console.labels import ROLES, STATUSES, rule_label, status_label
from tts_service.console.sessions import Session

__all__ = ["HEADERS", "STATIC", "duration", "render", "when"]

_HERE = Path(__file__).resolve().parent
#: The console's own files, served at /console/static/<name>.
STATIC = _HERE / "static"

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
#: Sent with every console response: pages hold an editor's work, so nothing is cached.
HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# Vietnam has one time zone and no daylight saving: editors read local times.
_VIETNAM_OFFSET_S = 7 * 3600

# Autoescaping on for every template, whatever its file name.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"), autoescape=True, trim_blocks=True
    )
)


def duration(seconds: float | None) -> str:
    """``263.4`` → ``4:23``; ``—`` when there is no audio."""
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def when(stamp: float | None) -> str:
    """A time as an editor in Vietnam reads it: ``02/12/2026 14:05``."""
    if stamp is None:
        return "—"
    local = datetime.fromtimestamp(stamp + _VIETNAM_OFFSET_S, UTC)
    return local.strftime("%d/%m/%Y %H:%M")


def mib(size: int) -> str:
    """Bytes as editors read them: ``1,5 MiB`` (a Vietnamese decimal comma)."""
    return f"{size / 2**20:.1f} MiB".replace(".", ",")


def percent(share: float) -> str:
    """A share as editors read it: ``0.125`` → ``12,5%``."""
    return f"{share * 100:.1f}%".replace(".", ",")


def iso(stamp: float | None) -> str:
    """The same time for ``<time datetime>``."""
    return "" if stamp is None else datetime.fromtimestamp(stamp, UTC).isoformat()


def _static_url(name: str) -> str:
    # The file's modification time busts caches when the service is upgraded.
    path = STATIC / name
    version = int(path.stat().st_mtime) if path.exists() else int(time.time())
    return f"/console/static/{quote(name)}?v={version}"


templates.env.globals.update(
    static=_static_url,
    duration=duration,
    when=when,
    iso=iso,
    mib=mib,
    percent=percent,
    rule_label=rule_label,
    status_label=status_label,
    statuses=STATUSES,
)


def render(
    request: Request,
    name: str,
    *,
    session: Session | None,
    code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page ``name`` for ``session``'s editor, with the console's security headers."""
    context.setdefault("message", None)
    context.setdefault("section", None)
    values = {
        "session": session,
        "role_label": ROLES.get(session.key.role, session.key.role) if session else "",
        **context,
    }
    response = templates.TemplateResponse(
        request, name, values, status_code=code, headers=dict(HEADERS)
    )
    return response
