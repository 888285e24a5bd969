"""The embeddable read-aloud player (``/static/player.js``, ``player.css``) and its ``/demo`` page.

Portals embed the player with one tag; ``/demo`` shows it on the seed article laid out as a
provincial portal's article page. The seed is read from the package at request time and
every piece of its text is escaped into the page.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

__all__ = ["DemoArticle", "parse_seed_article", "render_demo", "router"]

router = APIRouter(tags=["player"])

_ASSETS = {
    "player.js": "text/javascript; charset=utf-8",
    "player.css": "text/css; charset=utf-8",
    "player-ui.css": "text/css; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
}
_SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# The demo runs nothing but the service's own files: no inline script or style, no plugins.
_DEMO_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)
# Not versioned in the embed URL, so keep it short and let the ETag make revalidation cheap.
_ASSET_CACHE = "public, max-age=300"
# The portal's own toolbar; the demo renders each label found in the seed's chrome line.
_TOOLS = ("Chế độ ban đêm", "In trang", "Xuất PDF")
_READ_LABEL = "Đọc nội dung"
# The seed's chrome opens with the portal's English "Skip to main content"; the demo's
# listeners are Vietnamese, and a screen reader would read it in the Vietnamese voice.
_SKIP_LABEL = "Chuyển đến nội dung chính"
_FONT_CONTROLS = "-A A +A"
_SENTENCE_END = re.compile(r"[.!?…:;\"”)]$")
_BYLINE_INDENT = 20
_CAPTION_MAX = 120


@dataclass(frozen=True, slots=True)
class DemoArticle:
    """The seed article split into the portal's chrome and the article itself."""

    slogan: str
    tools: tuple[str, ...]
    font_controls: bool
    title: str
    blocks: tuple[tuple[str, str], ...]
    byline: str


def _static(name: str) -> bytes:
    return resources.files("tts_service").joinpath("static", name).read_bytes()


def parse_seed_article(text: str) -> DemoArticle:
    """Split the seed's lines into chrome, title, paragraphs, captions and byline.

    Lines up to the font-size controls (``-A A +A``) are the portal's chrome. A short line
    with no closing punctuation is a photo caption; a line starting in lower case continues
    the block before it (``phát biểu chỉ đạo tại hội nghị``); deeply indented closing lines
    are the byline, joined with a dash (``Vy Quản – Sở Kế hoạch và Đầu tư``).
    """
    lines = [(len(raw) - len(raw.lstrip()), raw.strip()) for raw in text.splitlines()]
    lines = [(indent, line) for indent, line in lines if line]
    ends = [i for i, (_, line) in enumerate(lines) if line == _FONT_CONTROLS]
    chrome = [line for _, line in lines[: ends[0] + 1]] if ends else []
    rest = lines[len(chrome) :]
    if not rest:
        raise ValueError("the seed article has no title")
    title = rest[0][1]
    body = rest[1:]
    byline: list[str] = []
    while body and body[-1][0] >= _BYLINE_INDENT:
        byline.insert(0, body.pop()[1])
    blocks: list[tuple[str, str]] = []
    for _, line in body:
        if blocks and line[0].islower():
            kind, previous = blocks[-1]
            blocks[-1] = (kind, f"{previous} {line}")
        elif _SENTENCE_END.search(line) or len(line) > _CAPTION_MAX:
            blocks.append(("p", line))
        else:
            blocks.append(("caption", line))
    tools_line = next((line for line in chrome if _READ_LABEL in line), "")
    others = [line for line in chrome if line not in (tools_line, _FONT_CONTROLS)]
    return DemoArticle(
        # others[0] is the portal's skip link, replaced by a Vietnamese one (_SKIP_LABEL).
        slogan=" ".join(others[1:]),
        tools=tuple(tool for tool in _TOOLS if tool in tools_line),
        font_controls=_FONT_CONTROLS in chrome,
        title=title,
        blocks=tuple(blocks),
        byline=" – ".join(byline),
    )


def _tools_html(article: DemoArticle) -> str:
    esc = html.escape
    parts = [
        f'<button type="button" class="tool" aria-disabled="true">{esc(tool)}</button>'
        for tool in article.tools
    ]
    # Last in its group, so the player that replaces it opens on a row of its own.
    parts.append(
        '<button type="button" class="tool tool-read" data-tts-read '
        f'data-tts-target="#noi-dung">{esc(_READ_LABEL)}</button>'
    )
    return "\n".join(f"          {part}" for part in parts)


def _fonts_html(article: DemoArticle) -> str:
    if not article.font_controls:
        return ""
    buttons = "".join(
        # The name starts with what is seen, for voice control ("nhấn -A").
        f'<button type="button" class="tool" aria-disabled="true" '
        f'aria-label="{html.escape(label)} ({name})">{html.escape(label)}</button>'
        for label, name in (("-A", "Giảm cỡ chữ"), ("A", "Cỡ chữ mặc định"), ("+A", "Tăng cỡ chữ"))
    )
    return f'        <div class="tool-group" role="group" aria-label="Cỡ chữ">{buttons}</div>'


def _body_html(article: DemoArticle) -> str:
    parts = []
    for kind, text in article.blocks:
        if kind == "p":
            parts.append(f"<p>{html.escape(text)}</p>")
        else:
            parts.append(
                '<figure><div class="photo" aria-hidden="true"></div>'
                f"<figcaption>{html.escape(text)}</figcaption></figure>"
            )
    return "\n".join(f"      {part}" for part in parts)


def render_demo(article: DemoArticle, *, static_base: str = "/static") -> str:
    """The demo page's HTML for ``article``; all article text is HTML-escaped."""
    template = Template(_static("demo.html").decode("utf-8"))
    return template.substitute(
        static=html.escape(static_base),
        skip=html.escape(_SKIP_LABEL),
        slogan=html.escape(article.slogan),
        title=html.escape(article.title),
        fonts=_fonts_html(article),
        tools=_tools_html(article),
        body=_body_html(article),
        byline=html.escape(article.byline),
    )


@router.api_route("/static/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def asset(name: str, request: Request) -> Response:
    """The player's script and styles, with an ETag for cheap revalidation."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "Không có tệp này (no such file).")
    data = _static(name)
    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    headers = {
        **_SECURITY,
        "ETag": etag,
        "Cache-Control": _ASSET_CACHE,
        # Portals on other origins load these files; allow it even under their COEP.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


@router.get("/demo", response_class=HTMLResponse, include_in_schema=False)
def demo() -> HTMLResponse:
    """The seed article on a mock provincial portal page, with the player wired."""
    article = parse_seed_article(_static("seed-article.txt").decode("utf-8"))
    headers = {**_SECURITY, "Content-Security-Policy": _DEMO_CSP, "Cache-Control": "no-cache"}
    return HTMLResponse(render_demo(article), headers=headers)
