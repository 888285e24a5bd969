"""The editors' console at ``/console/``: sign-in, articles, one article, the lexicon.

Pages are server-rendered (:mod:`.pages`) and work without JavaScript; ``console.js`` adds
the sentence highlighting under the audio and the live progress of a queued article.
Every change is a ``POST`` with the session's CSRF token; every page shows only what the
signed-in key may reach (:func:`~tts_service.registry.access.may_access`): another key's
article is "not found", as in the API.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from tts_service.api.auth import find_key
from tts_service.api.limits import client_key
from tts_service.console import csrf
from tts_service.console.annotate import annotate
from tts_service.console.dashboard import build_dashboard
from tts_service.console.forms import FormError, read_form
from tts_service.console.labels import STATUSES, status_label
from tts_service.console.lexicon_edit import Change, dry_run, try_sentence
from tts_service.console.listening import day_figures, stops
from tts_service.console.listing import list_articles
from tts_service.console.pages import HEADERS, STATIC, render
from tts_service.console.sessions import Session, SessionStore
from tts_service.errors import ArticleNotFound, EditConflict, InputError, NotAllowed
from tts_service.registry.access import SITE, may_access
from tts_service.registry.articles import ArticleRegistry
from tts_service.registry.store import ArticleRecord
from tts_service.schemas import ARTICLE_ID_PATTERN

__all__ = ["COOKIE", "SIGNIN_COOKIE", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)

#: The session cookie: a random token, HttpOnly, SameSite=Strict, Secure over HTTPS.
COOKIE = "tts_console"
#: The sign-in form's double-submit CSRF cookie (there is no session yet).
SIGNIN_COOKIE = "tts_console_signin"
_PATH = "/console"
_ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)
_ASSETS = {"console.css": "text/css", "console.js": "text/javascript"}
_STORE_LOCK = threading.Lock()
# Saves of the lexicon from this process's console, one at a time: the registry compares
# the editor's ETag and writes in two steps.
_LEXICON_LOCK = threading.Lock()

_BAD_FORM = (
    "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang rồi thử lại "
    "(the form's security token is missing or wrong: reload the page)."
)
_BAD_KEY = "Khóa API không đúng (the API key is not valid)."
_NO_KEY = "Hãy nhập khóa API (enter your API key)."
_EXPIRED = "Phiên làm việc đã hết hạn; hãy đăng nhập lại (your session expired: sign in again)."
_SIGNED_OUT = "Bạn đã đăng xuất (you are signed out)."
_CONFLICT = (
    "Từ điển vừa được người khác sửa, nên thay đổi của bạn chưa được lưu. Hãy tải lại trang "
    "để xem bản mới rồi sửa lại (the lexicon changed since you opened it: reload and edit again)."
)
_ADMINS_ONLY = (
    "Chỉ khóa quản trị mới sửa được từ điển của trang "
    "(only an admin API key may change the site lexicon)."
)


# -- plumbing ------------------------------------------------------------------------------


def _registry(request: Request) -> ArticleRegistry:
    registry: ArticleRegistry | None = getattr(request.app.state, "registry", None)
    if registry is None:
        raise HTTPException(503, "Kho bài viết chưa sẵn sàng (the registry is not running).")
    return registry


def _sessions(request: Request) -> SessionStore:
    """The session store over the running registry's database (made on first use)."""
    registry = _registry(request)
    state = request.app.state
    with _STORE_LOCK:
        store: SessionStore | None = getattr(state, "console_sessions", None)
        if store is None or store.db is not registry.store.db:
            store = SessionStore(registry.store.db, state.settings)
            state.console_sessions = store
    return store


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path=_PATH,
        httponly=True,
        secure=_https(request),
        samesite="strict",
    )


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=dict(HEADERS))


def _current(request: Request) -> Session | None:
    return _sessions(request).find(request.cookies.get(COOKIE))


def _sign_in_first(request: Request) -> RedirectResponse:
    """To the sign-in page, coming back here after; says the session expired if it did."""
    query = {"next": request.url.path}
    if request.cookies.get(COOKIE):
        query["expired"] = "1"
    response = _redirect(f"{_PATH}/sign-in?{urlencode(query)}")
    if request.cookies.get(COOKIE):
        response.delete_cookie(COOKIE, path=_PATH)
    return response


def _safe_next(value: str | None) -> str:
    """Only a console path: sign-in never sends an editor to another site."""
    if value and value.startswith(f"{_PATH}/") and "//" not in value and "\\" not in value:
        return value
    return f"{_PATH}/articles"


async def _posted(request: Request) -> tuple[Session | None, dict[str, str] | None]:
    """The session and form of a console POST; form ``None`` when its CSRF token is wrong."""
    session = await run_in_threadpool(_current, request)
    try:
        form = await read_form(request)
    except FormError:
        return session, None
    if session is None or not csrf.valid(session.csrf, form.get(csrf.FIELD)):
        return session, None
    return session, form


def _refused(request: Request, session: Session | None) -> Response:
    if session is None:
        return _sign_in_first(request)
    return render(
        request,
        "message.html",
        session=session,
        code=403,
        heading="Không thực hiện được",
        message=_BAD_FORM,
        message_kind="error",
    )


def _not_found(request: Request, session: Session, article_id: str) -> Response:
    return render(
        request,
        "message.html",
        session=session,
        code=404,
        heading="Không có bài viết này",
        section="articles",
        message=f"Không có bài viết «{article_id}» (no such article).",
        message_kind="error",
        message_link={"href": f"{_PATH}/articles", "text": "Về danh sách bài viết"},
    )


def _article(registry: ArticleRegistry, session: Session, article_id: str) -> ArticleRecord:
    if not _ARTICLE_ID.fullmatch(article_id):
        raise ArticleNotFound(article_id)
    return registry.get(article_id, key=session.key)


# -- signing in and out --------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    """The console's entry: the article list, or sign-in first."""
    if _current(request) is None:
        return _redirect(f"{_PATH}/sign-in")
    return _redirect(f"{_PATH}/articles")


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    """The sign-in form, with its double-submit CSRF cookie."""
    nxt = _safe_next(request.query_params.get("next"))
    if _current(request) is not None:
        return _redirect(nxt)
    message = None
    if request.query_params.get("expired"):
        message = _EXPIRED
    elif request.query_params.get("out"):
        message = _SIGNED_OUT
    return _sign_in_form(request, nxt, message=message, kind="info")


def _sign_in_form(
    request: Request, nxt: str, *, message: str | None, kind: str, code: int = 200
) -> Response:
    token = csrf.new_token()
    response = render(
        request,
        "sign_in.html",
        session=None,
        code=code,
        signin_csrf=token,
        next=nxt,
        message=message,
        message_kind=kind,
    )
    _set_cookie(response, request, SIGNIN_COOKIE, token, 3600)
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Exchange an API key for a session; wrong keys are counted per client address."""
    try:
        form = await read_form(request)
    except FormError:
        form = {}
    nxt = _safe_next(form.get("next"))
    if not csrf.valid(request.cookies.get(SIGNIN_COOKIE), form.get(csrf.FIELD)):
        return _sign_in_form(request, nxt, message=_BAD_FORM, kind="error", code=403)
    store = await run_in_threadpool(_sessions, request)
    client = client_key(request.client.host if request.client is not None else None)
    wait = await run_in_threadpool(store.signin_blocked, client)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        message = (
            f"Bạn đã nhập sai khóa quá nhiều lần; hãy thử lại sau khoảng {minutes} phút "
            f"(too many wrong keys: try again in about {minutes} min)."
        )
        response = _sign_in_form(request, nxt, message=message, kind="error", code=429)
        response.headers["Retry-After"] = str(round(wait))
        return response
    presented = form.get("key", "").strip()
    if not presented:
        return _sign_in_form(request, nxt, message=_NO_KEY, kind="error", code=422)
    key = find_key(request.app.state.settings.api_keys, presented)
    if key is None:
        await run_in_threadpool(store.signin_failed, client)
        return _sign_in_form(request, nxt, message=_BAD_KEY, kind="error", code=403)
    token, _ = await run_in_threadpool(store.start, key)
    response = _redirect(nxt)
    settings = request.app.state.settings
    _set_cookie(response, request, COOKIE, token, int(settings.console_session_max_s))
    response.delete_cookie(SIGNIN_COOKIE, path=_PATH)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session: its row is removed, its cookie cleared."""
    session, form = await _posted(request)
    if form is None:
        return _refused(request, session)
    store = await run_in_threadpool(_sessions, request)
    await run_in_threadpool(store.end, request.cookies.get(COOKIE))
    response = _redirect(f"{_PATH}/sign-in?out=1")
    response.delete_cookie(COOKIE, path=_PATH)
    return response


# -- articles ------------------------------------------------------------------------------


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1_000_000))
    except ValueError:
        return 1


@router.get("/articles")
def articles(request: Request) -> Response:
    """The key's articles: searched by id or title, filtered by status, paged."""
    session = _current(request)
    if session is None:
        return _sign_in_first(request)
    params = request.query_params
    query = params.get("q", "")[:200]
    status = params.get("status") or None
    if status not in STATUSES:
        status = None
    registry = _registry(request)
    listing = list_articles(
        registry,
        key=session.key,
        query=query,
        status=status,
        page=_page_number(params.get("page")),
        size=registry.service.settings.page_size,
    )

    def page_url(number: int) -> str:
        kept = {k: v for k, v in (("q", query), ("status", status or "")) if v}
        return f"{_PATH}/articles?{urlencode({**kept, 'page': number})}"

    message = None
    if params.get("deleted"):
        message = f"Đã xóa bài «{params['deleted'][:200]}»."
    return render(
        request,
        "articles.html",
        session=session,
        section="articles",
        listing=listing,
        query=query,
        status=status,
        page_url=page_url,
        message=message,
        message_kind="info",
    )


def _progress(registry: ArticleRegistry, record: ArticleRecord) -> dict[str, Any]:
    """What the article's live status says: its status and its latest job's progress."""
    job = registry.store.latest_job(record.id)
    text = status_label(record.status)
    done = total = None
    if job is not None and job.state in ("queued", "running"):
        if job.state == "running" and job.chunks_total:
            done = (job.chunks_reused or 0) + (job.chunks_synthesised or 0)
            total = job.chunks_total
            text = f"Đang đọc: {done}/{total} đoạn"
        elif job.state == "queued":
            text = "Đang chờ đến lượt đọc"
        else:
            text = "Đang đọc"
    elif record.status == "failed" and record.error:
        text = f"Lỗi: {record.error}"
    return {
        "status": record.status,
        "job": job.state if job is not None else None,
        "busy": job is not None and job.state in ("queued", "running"),
        "done": done,
        "total": total,
        "text": text,
        "stale": record.stale,
    }


@router.get("/articles/{article_id}")
def article(article_id: str, request: Request) -> Response:
    """One article: status, audio, and its text as written and as spoken, sentence by
    sentence, with every rewrite and every token needing attention marked."""
    session = _current(request)
    if session is None:
        return _sign_in_first(request)
    registry = _registry(request)
    try:
        record = _article(registry, session, article_id)
    except ArticleNotFound:
        return _not_found(request, session, article_id)
    sentences = []
    note = ""
    if record.text is None:
        note = "Nội dung bài chưa được lấy về: bài đang chờ được đọc lần đầu."
    else:
        try:
            sentences = annotate(registry.service.normalize(record.text))
        except InputError as exc:
            note = f"Không đọc được nội dung bài: {exc}"
    flagged = [
        {"index": s.index, "token": p.text, "said": p.said}
        for s in sentences
        for p in s.written
        if p.unknown
    ]
    rewrites = sum(1 for s in sentences for p in s.written if p.rule)
    days = day_figures(registry.store.db, record.id)
    stopped = stops(registry.store.db, record.id)
    top = max(stopped.values(), default=0) or 1
    message = None
    if request.query_params.get("queued"):
        message = "Đã xếp hàng đọc lại bài này; trạng thái bên dưới tự cập nhật."
    return render(
        request,
        "article.html",
        session=session,
        section="articles",
        article=record,
        progress_text=_progress(registry, record)["text"],
        sentences=sentences,
        flagged=flagged,
        rewrites=rewrites,
        text_note=note,
        days=days,
        stopped=[(index, count, count / top) for index, count in stopped.items()],
        message=message,
        message_kind="info",
    )


@router.get("/articles/{article_id}/progress")
def article_progress(article_id: str, request: Request) -> Response:
    """The article's live status for the page's script (short polling), as JSON."""
    session = _current(request)
    if session is None:
        return JSONResponse({"detail": _EXPIRED}, status_code=401, headers=dict(HEADERS))
    registry = _registry(request)
    try:
        record = _article(registry, session, article_id)
    except ArticleNotFound:
        return JSONResponse(
            {"detail": "Không có bài viết này (no such article)."},
            status_code=404,
            headers=dict(HEADERS),
        )
    return JSONResponse(_progress(registry, record), headers=dict(HEADERS))


@router.post("/articles/{article_id}/regenerate")
async def regenerate(article_id: str, request: Request) -> Response:
    """ "Đọc lại": queue a new reading of the article as it is now."""
    session, form = await _posted(request)
    if session is None or form is None:
        return _refused(request, session)
    registry = _registry(request)
    try:
        await run_in_threadpool(_article, registry, session, article_id)
        await run_in_threadpool(registry.regenerate, article_id, key=session.key)
    except ArticleNotFound:
        return _not_found(request, session, article_id)
    return _redirect(f"{_PATH}/articles/{article_id}?queued=1")


@router.get("/articles/{article_id}/delete")
def confirm_delete(article_id: str, request: Request) -> Response:
    """Ask before deleting: what goes, and that it cannot be undone."""
    session = _current(request)
    if session is None:
        return _sign_in_first(request)
    try:
        record = _article(_registry(request), session, article_id)
    except ArticleNotFound:
        return _not_found(request, session, article_id)
    return render(
        request, "confirm_delete.html", session=session, section="articles", article=record
    )


@router.post("/articles/{article_id}/delete")
async def delete(article_id: str, request: Request) -> Response:
    """Delete the article and the audio no other article shares."""
    session, form = await _posted(request)
    if session is None or form is None:
        return _refused(request, session)
    registry = _registry(request)
    try:
        await run_in_threadpool(_article, registry, session, article_id)
        await run_in_threadpool(registry.delete, article_id, key=session.key)
    except ArticleNotFound:
        return _not_found(request, session, article_id)
    return _redirect(f"{_PATH}/articles?{urlencode({'deleted': article_id})}")


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    """The figures at a glance, as small charts drawn by the service."""
    session = _current(request)
    if session is None:
        return _sign_in_first(request)
    figures = build_dashboard(_registry(request), key=session.key)
    return render(request, "dashboard.html", session=session, section="dashboard", d=figures)


# -- the site lexicon ----------------------------------------------------------------------


def _lexicon_page(
    request: Request,
    session: Session,
    *,
    code: int = 200,
    etag: str | None = None,
    **context: Any,
) -> Response:
    registry = _registry(request)
    entries, current = registry.lexicon()
    context.setdefault("form", {"written": "", "reading": "", "sentence": ""})
    context.setdefault("editing", None)
    context.setdefault("preview", None)
    context.setdefault("saved", None)
    context.setdefault("tried", None)
    return render(
        request,
        "lexicon.html",
        session=session,
        code=code,
        section="lexicon",
        entries=sorted(entries.items(), key=lambda item: item[0].casefold()),
        etag=etag or current,
        can_edit=may_access(session.key, SITE),
        **context,
    )


@router.get("/lexicon")
def lexicon(request: Request) -> Response:
    """The site lexicon; admins edit it, every key may try a sentence against it."""
    session = _current(request)
    if session is None:
        return _sign_in_first(request)
    registry = _registry(request)
    entries, _ = registry.lexicon()
    editing = request.query_params.get("sua")
    form = {"written": "", "reading": "", "sentence": ""}
    if editing in entries:
        form = {"written": editing, "reading": entries[editing], "sentence": ""}
    else:
        editing = None
    context: dict[str, Any] = {"editing": editing, "form": form}
    sentence = request.query_params.get("thu", "").strip()[:1000]
    if sentence:
        context["tried_sentence"] = sentence
        try:
            context["tried"] = try_sentence(registry, sentence, entries)[0]
        except InputError as exc:
            context.update(message=str(exc), message_kind="error")
    return _lexicon_page(request, session, **context)


def _change(form: dict[str, str]) -> Change:
    action = form.get("action", "")
    if action not in ("add", "edit", "remove"):
        raise InputError("Thao tác không hợp lệ (unknown action).")
    change = Change.of(
        action=action,
        old=form.get("old", ""),
        written=form.get("written", ""),
        reading=form.get("reading", ""),
    )
    if change.reading is not None and (not change.written or not change.reading):
        raise InputError(
            "Hãy điền cả cách viết và cách đọc (an entry needs a written form and a reading)."
        )
    if change.reading is None and not change.old:
        raise InputError("Hãy chọn mục cần xóa (choose the entry to remove).")
    return change


def _describe(change: Change, entries: dict[str, str]) -> str:
    if change.reading is None:
        return f"Xóa mục «{change.old}» (đọc là «{entries.get(change.old or '', '')}»)."
    if change.old and change.old != change.written:
        return f"Đổi mục «{change.old}» thành «{change.written}» đọc là «{change.reading}»."
    if change.written in entries:
        return f"Đổi cách đọc «{change.written}»: «{entries[change.written]}» → «{change.reading}»."
    return f"Thêm mục «{change.written}» đọc là «{change.reading}»."


def _lexicon_form_error(
    request: Request, session: Session, form: dict[str, str], message: str, code: int
) -> Response:
    return _lexicon_page(
        request,
        session,
        code=code,
        message=message,
        message_kind="error",
        editing=form.get("old") or None if form.get("action") == "edit" else None,
        form={k: form.get(k, "") for k in ("written", "reading", "sentence")},
    )


@router.post("/lexicon/preview")
async def lexicon_preview(request: Request) -> Response:
    """The dry run of one change: what it would do and which articles it would re-read."""
    session, form = await _posted(request)
    if session is None or form is None:
        return _refused(request, session)
    if not may_access(session.key, SITE):
        return _lexicon_page(request, session, code=403, message=_ADMINS_ONLY, message_kind="error")
    registry = _registry(request)
    entries, etag = registry.lexicon()
    if form.get("etag", "").strip('"') != etag:
        return _conflict(request, session)
    try:
        change = _change(form)
        proposed = change.apply(entries)
        affected = await run_in_threadpool(dry_run, registry, proposed)
        sentence = form.get("sentence", "").strip()[:1000]
        tried = (
            await run_in_threadpool(try_sentence, registry, sentence, proposed)
            if sentence
            else None
        )
    except InputError as exc:
        return _lexicon_form_error(request, session, form, str(exc), 422)
    preview = {
        "summary": _describe(change, entries),
        "affected": affected,
        "sentence": sentence,
        "tried": tried,
        "action": form["action"],
        "old": change.old or "",
        "written": change.written,
        "reading": change.reading or "",
    }
    return _lexicon_page(request, session, etag=etag, preview=preview)


def _conflict(request: Request, session: Session) -> Response:
    return _lexicon_page(
        request,
        session,
        code=409,
        message=_CONFLICT,
        message_kind="error",
        message_link={"href": f"{_PATH}/lexicon", "text": "Tải lại từ điển"},
    )


@router.post("/lexicon/save")
async def lexicon_save(request: Request) -> Response:
    """Save one change, only if the lexicon is still the one the editor previewed."""
    session, form = await _posted(request)
    if session is None or form is None:
        return _refused(request, session)
    registry = _registry(request)
    seen = form.get("etag", "").strip('"')

    def save(change: Change) -> list[str]:
        with _LEXICON_LOCK:
            entries, etag = registry.lexicon()
            if seen != etag:
                raise EditConflict(_CONFLICT)
            result = registry.set_lexicon(change.apply(entries), if_match=etag, key=session.key)
        return result.requeued

    try:
        requeued = await run_in_threadpool(save, _change(form))
    except NotAllowed:
        return _lexicon_page(request, session, code=403, message=_ADMINS_ONLY, message_kind="error")
    except EditConflict:
        return _conflict(request, session)
    except InputError as exc:
        return _lexicon_form_error(request, session, form, str(exc), 422)
    return _lexicon_page(request, session, saved=requeued)


# -- the console's own files ---------------------------------------------------------------


@router.get("/static/{name}")
def asset(name: str) -> Response:
    """The console's stylesheet and script."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "Không có tệp này (no such file).")
    headers = {**HEADERS, "Cache-Control": "public, max-age=86400"}
    return FileResponse(STATIC / name, media_type=f"{media_type}; charset=utf-8", headers=headers)
