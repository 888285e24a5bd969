"""Limits that keep the public read endpoint from serving as anyone's free speech engine.

Four guards, each as cheap as the check allows:

- :class:`BodySizeLimitMiddleware` refuses a body larger than ``TTS_MAX_BODY_BYTES`` with
  413 before it is parsed: on its ``Content-Length`` without reading a byte, or, for a
  chunked body, as soon as the bytes received pass the limit.
- :class:`ReadGuard` refuses, on ``POST /v1/read`` and ``GET /v1/read``:

  - with ``TTS_READ_REGISTERED_ONLY``, every new synthesis (403): the public endpoint then
    serves only audio that exists already, and portals play registered articles by id;

  - callers whose ``Origin`` (else ``Referer``) is not in ``TTS_READ_ORIGINS`` (403), when
    that list is set. This stops other websites from embedding the service in their pages;
    it does not stop a script, which can send any header it likes;
  - a client that asks for more than ``TTS_CLIENT_SYNTH_PER_MINUTE`` new articles (bursts of
    ``TTS_CLIENT_SYNTH_BURST``) with 429. A request pays *before* its text is extracted and
    normalised (or its page fetched), so a client out of budget costs no CPU: every request
    that is not a repeat of one already answered (same text or page, same options) pays,
    even if its text turns out to be an article already made. Repeats — cached audio,
    joining a running job — and audio, timings and status stay free, so listeners of a
    popular article are never refused;
  - a new synthesis while ``TTS_MAX_CONCURRENT_JOBS`` listeners' articles are being read,
    with 503 (registry jobs run on threads of their own and are not counted);
  - a new synthesis from a client that already has ``TTS_CLIENT_MAX_JOBS`` articles being
    read, with 429: its fair share. A per-minute budget alone does not bound it: ten long
    articles a minute, each read for minutes, would soon hold every slot.

- :meth:`ReadGuard.check_text` refuses ``POST /v1/normalize`` (every call processes text)
  beyond ``TTS_CLIENT_TEXT_PER_MINUTE`` (bursts of ``TTS_CLIENT_TEXT_BURST``) with 429,
  before anything is fetched or processed.

A client is the address the request came from (:func:`client_key`): an IPv4 address, or
the /64 of an IPv6 one (one subscriber's whole prefix). ``tts-service serve`` believes
``X-Forwarded-For`` only from the proxies named in ``TTS_FORWARDED_ALLOW_IPS`` (none by
default); without that setting behind a proxy, all listeners share the proxy's budget. A
forwarded value that is not an IP address counts as one shared client, so made-up values
cannot open new budgets.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tts_service.errors import ServerBusy, TooManyRequests
from tts_service.settings import Settings
from tts_service.synthesis import SpeechService

__all__ = [
    "BUSY_RETRY_AFTER_S",
    "MAX_CLIENTS",
    "BodySizeLimitMiddleware",
    "ClientBuckets",
    "ReadGuard",
    "body_limit",
    "client_key",
    "get_read_guard",
    "require_read_origin",
]

#: Clients whose buckets are remembered; the least recently seen is forgotten beyond that
#: (it comes back with a full bucket), so memory stays bounded whatever the traffic.
MAX_CLIENTS = 10_000
#: What a refused request is told to wait when the job cap is reached: about one article.
BUSY_RETRY_AFTER_S = 10.0
# Room for the request's other fields (title, selector, JSON quoting) on top of the text.
_MIN_BODY_BYTES = 64 * 1024


def body_limit(settings: Settings) -> int:
    """The largest request body accepted: ``TTS_MAX_BODY_BYTES``, else derived from the text.

    HTML may be four times ``TTS_MAX_TEXT_CHARS`` and a character takes up to four UTF-8
    bytes, so 16 bytes a character never refuses a body the service would have read.
    """
    if settings.max_body_bytes is not None:
        return settings.max_body_bytes
    return max(_MIN_BODY_BYTES, 4 * settings.max_text_chars * 4)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"Yêu cầu quá lớn, vượt quá {limit} byte "
            f"(the request body is larger than {limit} bytes)."
        },
        status_code=413,
    )


class BodySizeLimitMiddleware:
    """ASGI middleware: 413 for a request body over ``max_bytes``, before the app reads it.

    With a ``Content-Length`` the header decides and no byte is read (the server itself
    delivers no more than that header says). A chunked body is read here, counting, and
    refused as soon as it passes the limit; one within it is handed to the app whole, which
    is what the JSON routes would do anyway.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized request, or pass it on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                bad = JSONResponse(
                    {"detail": "Content-Length không hợp lệ (invalid Content-Length)."},
                    status_code=400,
                )
                await bad(scope, receive, send)
            elif int(declared) > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if "transfer-encoding" not in headers:
            # HTTP/1.1: no Content-Length and no Transfer-Encoding means no body.
            await self.app(scope, receive, send)
            return
        body = await self._read_limited(receive)
        if body is None:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_limited(self, receive: Receive) -> Message | None:
        """The whole body as one message, or ``None`` once it passes the limit."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message  # the client left: let the app see the disconnect
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(parts), "more_body": False}


def _replay(first: Message, receive: Receive) -> Receive:
    """A ``receive`` that yields ``first`` once, then the server's messages (disconnects)."""
    pending = [first]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


class ClientBuckets:
    """A token bucket per client: ``per_minute`` tokens a minute, ``burst`` at most.

    Thread-safe (sync routes run in a thread pool). At most ``max_clients`` buckets are
    kept, least recently used first out; a forgotten client starts again with a full
    bucket, the price of bounded memory.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1 or max_clients < 1:
            raise ValueError("per_minute must be > 0, burst and max_clients at least 1")
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        # client -> (tokens, when they were counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many clients are remembered."""
        with self._lock:
            return len(self._buckets)

    def try_take(self, client: str) -> float | None:
        """Take a token for ``client``: ``None`` if taken, else seconds until one is due."""
        with self._lock:
            now = self._clock()
            tokens, counted = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - counted) * self.rate)
            granted = tokens >= 1.0
            if granted:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return None if granted else (1.0 - tokens) / self.rate


#: The one bucket every request whose client address is missing or not an IP address
#: shares (a proxy forwarding garbage, a test client).
UNKNOWN_CLIENT = "unknown"


def client_key(host: str | None) -> str:
    """The budget a client address counts against: the IPv4 address, or the IPv6 /64.

    A home or mobile subscriber is given a whole IPv6 /64, so each of its 2^64 addresses
    must not be a new client. Anything that is not an IP address ("evil", "1.2.3.4, x",
    a forged header) counts as :data:`UNKNOWN_CLIENT`.
    """
    if not host:
        return UNKNOWN_CLIENT
    try:
        ip = ipaddress.ip_address(host.strip().split("%", 1)[0])
    except ValueError:
        return UNKNOWN_CLIENT
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)  # ::ffff:203.0.113.7 is 203.0.113.7
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _client(request: Request) -> str:
    return client_key(request.client.host if request.client is not None else None)


def _origin(value: str) -> str | None:
    """``scheme://host[:port]`` of an Origin or Referer value, lower-cased; None if opaque."""
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.netloc:
        return None  # "null" (sandboxed frames, file:), or garbage
    return f"{parts.scheme}://{parts.netloc}".lower()


class ReadGuard:
    """The read endpoint's origin allow-list, per-client budget and job cap."""

    def __init__(
        self,
        *,
        origins: Iterable[str] = (),
        per_minute: float = 0.0,
        burst: int = 1,
        max_jobs: int | None = None,
        client_max_jobs: int | None = None,
        registered_only: bool = False,
        text_per_minute: float = 0.0,
        text_burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registered_only = registered_only
        self.origins = frozenset(o for o in (_origin(v) for v in origins) if o is not None)
        self.buckets = ClientBuckets(per_minute, burst, clock=clock) if per_minute > 0 else None
        self.text_buckets = (
            ClientBuckets(text_per_minute, text_burst, clock=clock) if text_per_minute > 0 else None
        )
        self.max_jobs = max_jobs
        self.client_max_jobs = client_max_jobs

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadGuard:
        """The guard ``TTS_READ_ORIGINS``, ``TTS_CLIENT_SYNTH_*`` and the job cap describe."""
        return cls(
            origins=settings.read_origins,
            per_minute=settings.client_synth_per_minute,
            burst=settings.client_synth_burst,
            max_jobs=settings.max_concurrent_jobs,
            client_max_jobs=settings.client_max_jobs,
            registered_only=settings.read_registered_only,
            text_per_minute=settings.client_text_per_minute,
            text_burst=settings.client_text_burst,
        )

    def check_origin(self, request: Request) -> None:
        """Refuse (403) a request from a page whose origin is not allowed, when a list is set.

        ``Origin`` comes with every cross-origin fetch and POST; a plain link (``GET
        /v1/read?url=``) sends only ``Referer``, so that is the fallback.
        """
        if not self.origins:
            return
        sent = request.headers.get("origin") or request.headers.get("referer")
        if sent is None or _origin(sent) not in self.origins:
            raise HTTPException(
                403,
                "Trang này không được phép dùng dịch vụ đọc bài (this origin may not use the "
                "read endpoint; allowed origins are set in TTS_READ_ORIGINS).",
            )

    @staticmethod
    def client(request: Request) -> str:
        """Who is asking (an IPv4 address or an IPv6 /64): jobs are shared out per client."""
        return _client(request)

    def charge(self, request: Request, service: SpeechService) -> Callable[[], None]:
        """The hook ``SpeechService.read`` calls before it fetches or processes new input.

        It takes one token from the client's budget, at most once per request however
        often it is called (a page read, then its HTML). A client already at its share of
        jobs is refused first, so that refusal costs it no token. Raises
        :class:`TooManyRequests`.
        """
        client = _client(request)
        spent = False

        def charge() -> None:
            nonlocal spent
            if spent:
                return
            self._check_share(service, client)
            if self.buckets is None:
                return
            spent = True
            wait = self.buckets.try_take(client)
            if wait is not None:
                raise TooManyRequests(
                    f"Bạn đã yêu cầu đọc quá nhiều bài mới, xin thử lại sau {math.ceil(wait)} "
                    f"giây (too many new articles from this client; retry in {math.ceil(wait)} s).",
                    retry_after=wait,
                )

        return charge

    def _check_share(self, service: SpeechService, client: str) -> None:
        """429 when ``client`` already has its share (``TTS_CLIENT_MAX_JOBS``) being read."""
        share = self.client_max_jobs
        if share is not None and service.listener_jobs(client) >= share:
            raise TooManyRequests(
                f"Bạn đang có {share} bài đang được đọc, xin chờ một bài xong rồi thử lại "
                f"(this client has {share} articles being read already; "
                "try again when one is done).",
                retry_after=BUSY_RETRY_AFTER_S,
            )

    def check_text(self, request: Request) -> None:
        """Take a token of the client's text budget (``POST /v1/normalize``), or 429."""
        if self.text_buckets is None:
            return
        wait = self.text_buckets.try_take(_client(request))
        if wait is not None:
            raise TooManyRequests(
                f"Bạn đã gửi quá nhiều văn bản để xử lý, xin thử lại sau {math.ceil(wait)} giây "
                f"(too many texts to process from this client; retry in {math.ceil(wait)} s).",
                retry_after=wait,
            )

    def admit(self, request: Request, service: SpeechService) -> Callable[[], None]:
        """The hook ``SpeechService.read`` calls right before starting a new job.

        Raises ``HTTPException`` 403 (``TTS_READ_REGISTERED_ONLY``), :class:`ServerBusy`
        (503), or :class:`TooManyRequests` (429) past the client's share of jobs
        (``TTS_CLIENT_MAX_JOBS``). The client's budget was charged before its text was
        processed (:meth:`charge`).
        """
        client = _client(request)

        def admit() -> None:
            if self.registered_only:
                # Audio already made (pre-generated articles, or read before) is served;
                # nothing new is synthesised for an anonymous caller.
                raise HTTPException(
                    403,
                    "Dịch vụ chỉ đọc các bài đã được đăng ký trước; hãy dùng "
                    "/v1/articles/{id}/audio (only registered articles are read here).",
                )
            if self.max_jobs is not None and service.listener_jobs() >= self.max_jobs:
                raise ServerBusy(
                    "Máy chủ đang đọc quá nhiều bài, xin thử lại sau giây lát "
                    f"(the server is reading {self.max_jobs} articles already; try again soon).",
                    retry_after=BUSY_RETRY_AFTER_S,
                )
            # Again, under the service's lock: another request may have started one since.
            self._check_share(service, client)

        return admit


def get_read_guard(request: Request) -> ReadGuard:
    """The app's guard (see ``api.main.create_app``)."""
    guard: ReadGuard = request.app.state.read_guard
    return guard


def require_read_origin(request: Request) -> None:
    """Route dependency: 403 unless the caller's origin may use the read endpoint."""
    get_read_guard(request).check_origin(request)
