"""Fetch a portal page by URL without letting the URL reach inside our network (SSRF).

The "Đọc nội dung" button sends us a URL; we fetch it ourselves. Every hop is vetted:

1. **Scheme.** Only ``http`` and ``https``.
2. **No credentials, no IP literals.** ``http://allowed.gov.vn@127.0.0.1/`` names the host
   ``127.0.0.1``; ``http://2130706433/`` and ``http://0177.0.0.1/`` are legacy spellings of
   ``127.0.0.1`` that some resolvers accept. Portals have names, so any host that looks
   like a number is refused before it is resolved.
3. **Allow-list.** The host must equal an allowed entry or be a subdomain of one:
   the entry ``langson.gov.vn`` allows ``langson.gov.vn`` and ``sokhdt.langson.gov.vn``
   but not ``evil-langson.gov.vn``. Hosts are compared lower-cased, IDNA-encoded and
   without a trailing dot.
4. **Addresses.** We resolve the name ourselves and refuse it if *any* address is not
   public: loopback, private (10/8, 172.16/12, 192.168/16), link-local (169.254/16 with
   the cloud metadata address 169.254.169.254), CGNAT (100.64/10), multicast, reserved,
   unspecified, and the IPv6 equivalents (::1, fc00::/7, fe80::/10), including IPv4
   addresses embedded in IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64, Teredo).
5. **Pinning.** We connect to the vetted IP itself: the request URL carries the IP, the
   ``Host`` header carries the name, and for https the ``sni_hostname`` extension makes
   httpcore send the name in TLS SNI and verify the certificate against it. The name is
   never resolved again, so DNS rebinding between check and connect cannot move us.
6. **Redirects** are followed by hand, and each ``Location`` goes through 1–5 again.

Bodies are streamed and cut at ``max_bytes`` of *decoded* bytes. ``Content-Encoding``
(``gzip``, ``deflate``, stacked as in ``gzip, gzip``) is undone here, a bounded piece at a
time, so a 7 KB double-gzip page that would inflate to 2 GB stops after ``max_bytes``;
other encodings (``br``, ``zstd``) are refused, as we never ask for them. One deadline
covers everything — the DNS lookup, each connection, every redirect, every read of the
body: each wait is given only the time left.

Decoding honours the HTTP charset, then ``<meta charset>``, then charset-normalizer, and
the text is NFC-normalised because windows-1258 pages spell "ế" as "e" + U+0302 + U+0301.
A "charset" that names a codec but not a character set (``punycode`` — quadratic to
decode —, ``idna``, ``unicode-escape``, ``rot13``, ``zlib``) counts as an unknown one.
"""

from __future__ import annotations

import codecs
import ipaddress
import logging
import re
import socket
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

import httpx
from charset_normalizer import from_bytes

from tts_service.errors import (
    FetchFailed,
    FetchTimeout,
    FetchTooLarge,
    ForbiddenTarget,
    TooManyRedirects,
)

__all__ = [
    "FetchedPage",
    "Resolver",
    "check_target",
    "fetch_page",
    "is_forbidden_address",
    "system_resolver",
]

logger = logging.getLogger(__name__)

Resolver = Callable[[str, int], Sequence[str]]
"""Turns ``(host, port)`` into the IP addresses to connect to, as strings."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# A host made only of numbers, dots and hex: 2130706433, 0177.0.0.1, 0x7f.1.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]*))*$", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
# Ranges that ``ipaddress`` flags are not all named in its docs; list ours explicitly.
_FORBIDDEN_NETS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
# Python codecs that decode bytes to text but are not character sets a page can be in.
_NOT_CHARSETS = frozenset(
    {"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined", "utf-7"}
)
# Content-Encodings we undo; what we ask for, so nothing else should come.
_ACCEPT_ENCODING = "gzip, deflate"
# Largest piece a decompressor may produce at once: memory stays bounded by a few of these.
_PIECE = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A fetched page, or a "not modified" answer to a conditional request.

    ``status`` is 200-class for a page and 304 when the caller's ``etag``/``last_modified``
    still hold; then ``html`` is empty and the caller keeps its copy.
    """

    url: str
    final_url: str
    status: int
    html: str
    etag: str | None
    last_modified: str | None
    charset: str | None

    @property
    def not_modified(self) -> bool:
        """True when the site answered 304 to our conditional request."""
        return self.status == 304


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the operating system's resolver (all A and AAAA records)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_forbidden_address(address: str) -> bool:
    """Return True when ``address`` is not a public unicast address we may connect to."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1, 2002:7f00:1:: (6to4), 64:ff9b::7f00:1 (NAT64) hide an IPv4.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_forbidden_address(str(embedded))
    if any(ip.version == net.version and ip in net for net in _FORBIDDEN_NETS):
        return True
    return not ip.is_global or ip.is_multicast or ip.is_reserved


def _normalise_host(host: str) -> str:
    """Lower-case, IDNA-encode and drop the trailing dot: ``Sở.LangSon.gov.vn.``."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _host_allowed(host: str, allowed_hosts: Collection[str]) -> bool:
    """Exact host or a subdomain of an entry: ``langson.gov.vn`` ⇒ ``sokhdt.langson.gov.vn``."""
    for entry in allowed_hosts:
        domain = _normalise_host(entry.lstrip("*").lstrip("."))
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Target:
    """A vetted hop: the URL as asked, its host name and the pinned IP to connect to."""

    url: httpx.URL
    host: str
    ip: str


def check_target(raw_url: str | httpx.URL, *, allowed_hosts: Collection[str]) -> httpx.URL:
    """Refuse a URL that may never be fetched, without any network: the scheme, credentials,
    an IP-address host, a host not on ``allowed_hosts``. Returns the parsed URL.

    The editors' API calls it when an article is registered by URL, so a page on a host
    that isn't allowed is refused at once (403) rather than failing later in a worker.

    Raises:
        ForbiddenTarget: the URL can never be read here.
    """
    text = str(raw_url)
    try:
        url = httpx.URL(raw_url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ForbiddenTarget(f"Địa chỉ không hợp lệ (invalid URL): {exc}", url=text) from exc
    if url.scheme not in ("http", "https"):
        raise ForbiddenTarget(
            f"Chỉ hỗ trợ http và https (only http and https URLs are allowed): {text}", url=text
        )
    if url.userinfo:
        raise ForbiddenTarget(
            "Địa chỉ không được chứa tên đăng nhập (URLs with credentials are refused).", url=text
        )
    host = _normalise_host(url.host)
    if not host or ":" in host or _NUMERIC_HOST.match(host):
        raise ForbiddenTarget(
            f"Không đọc trang theo địa chỉ IP (IP-address hosts are refused): {host}", url=text
        )
    if not _host_allowed(host, allowed_hosts):
        raise ForbiddenTarget(
            f"Trang {host} không nằm trong danh sách được phép (host not allowed).", url=text
        )
    return url


def _vet(
    raw_url: str | httpx.URL,
    *,
    allowed_hosts: Collection[str],
    resolver: Resolver,
    forbidden: Callable[[str], bool],
    deadline: float,
) -> _Target:
    """Check the URL (:func:`check_target`) and every resolved address; the pinned hop."""
    text = str(raw_url)
    url = check_target(raw_url, allowed_hosts=allowed_hosts)
    host = _normalise_host(url.host)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = _resolve(resolver, host, port, deadline=deadline, url=text)
    except OSError as exc:
        raise FetchFailed(f"Không tìm thấy máy chủ {host} (DNS lookup failed).", url=text) from exc
    if not addresses:
        raise FetchFailed(f"Không tìm thấy máy chủ {host} (no address).", url=text)
    bad = [a for a in addresses if forbidden(a)]
    if bad:
        logger.warning("refused %s: %s resolves to %s", text, host, bad)
        raise ForbiddenTarget(
            f"Máy chủ {host} trỏ tới địa chỉ nội bộ (host resolves to a non-public address).",
            url=text,
        )
    return _Target(url=url, host=host, ip=addresses[0])


def _is_charset(name: str) -> bool:
    """Whether ``name`` is a character set Python can decode (not ``punycode``, ``rot13``)."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    # ``_is_text_encoding`` is False for bytes-to-bytes and text-to-text codecs (zlib, rot13).
    return bool(getattr(info, "_is_text_encoding", True)) and info.name not in _NOT_CHARSETS


def _decode(body: bytes, header_charset: str | None) -> tuple[str, str | None]:
    """Decode with the HTTP charset, else ``<meta charset>``, else a detected one."""
    meta = _META_CHARSET.search(body[:4096])
    candidates = [header_charset, meta.group(1).decode("ascii") if meta else None]
    for charset in candidates:
        if not charset or not _is_charset(charset):
            continue
        try:
            return unicodedata.normalize("NFC", body.decode(charset)), charset.lower()
        except (LookupError, UnicodeDecodeError):
            continue
    best = from_bytes(body).best()
    if best is not None:
        return unicodedata.normalize("NFC", str(best)), best.encoding
    return unicodedata.normalize("NFC", body.decode("utf-8", errors="replace")), None


def _resolve(resolver: Resolver, host: str, port: int, *, deadline: float, url: str) -> list[str]:
    """``resolver(host, port)`` within the deadline: the system's lookup has no timeout.

    A lookup still running at the deadline is left to finish in its (daemon) thread.
    """
    outcome: list[list[str] | OSError] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            outcome.append(list(resolver(host, port)))
        except OSError as exc:
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name="tts-fetch-dns", daemon=True).start()
    if not done.wait(_remaining(deadline, url)):
        raise FetchTimeout("Trang phản hồi quá chậm (the page took too long).", url=url)
    if not outcome:
        raise FetchFailed(f"Không tìm thấy máy chủ {host} (DNS lookup failed).", url=url)
    result = outcome[0]
    if isinstance(result, OSError):
        raise result
    return result


def _remaining(deadline: float, url: str) -> float:
    """Seconds left before ``deadline``; raise :class:`FetchTimeout` when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchTimeout("Trang phản hồi quá chậm (the page took too long).", url=url)
    return left


def _send(
    client: httpx.Client, target: _Target, headers: dict[str, str], deadline: float
) -> httpx.Response:
    """Open a streamed GET to the pinned IP, with the name in ``Host`` and TLS SNI."""
    url = str(target.url)
    default_port = target.url.port is None
    host_header = target.host if default_port else f"{target.host}:{target.url.port}"
    request = client.build_request(
        "GET",
        target.url.copy_with(host=target.ip),
        headers={**headers, "Host": host_header},
        timeout=httpx.Timeout(_remaining(deadline, url)),
        extensions={"sni_hostname": target.host},
    )
    try:
        return client.send(request, stream=True, follow_redirects=False)
    except httpx.TimeoutException as exc:
        raise FetchTimeout("Trang phản hồi quá chậm (the page took too long).", url=url) from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(
            f"Không kết nối được tới trang (connection failed): {exc}", url=url
        ) from exc


class _Inflate:
    """Undo one ``gzip`` or ``deflate`` layer, at most :data:`_PIECE` bytes at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._fresh = True
        # gzip: header and trailer; deflate: zlib-wrapped, though some servers send it raw.
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding == "gzip" else 0)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in pieces; what does not fit waits in the tail."""
        while data:
            try:
                out = self._inflater.decompress(data, _PIECE)
            except zlib.error:
                if not (self._fresh and self.encoding == "deflate"):
                    raise
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
                out = self._inflater.decompress(data, _PIECE)
            self._fresh = False
            data = self._inflater.unconsumed_tail
            if self._inflater.eof and self._inflater.unused_data and self.encoding == "gzip":
                # Another gzip member follows (concatenated gzip files are one stream).
                data = self._inflater.unused_data + data
                self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            if out:
                yield out

    def decode(self, stream: Iterable[bytes]) -> Iterator[bytes]:
        """Every piece of ``stream`` decoded; a stream that stops mid-layer is corrupt."""
        seen = False
        for data in stream:
            seen = seen or bool(data)
            yield from self.pieces(data)
        if seen and not self._inflater.eof:
            raise zlib.error(f"truncated {self.encoding} stream")


def _decoded(raw: Iterable[bytes], encodings: Sequence[str], url: str) -> Iterator[bytes]:
    """``raw`` with every ``Content-Encoding`` undone, lazily: the last applied goes first."""
    stream: Iterable[bytes] = raw
    for encoding in reversed(encodings):
        if encoding == "identity":
            continue
        if encoding not in ("gzip", "x-gzip", "deflate"):
            raise FetchFailed(
                f"Trang dùng kiểu nén không hỗ trợ (unsupported Content-Encoding {encoding!r}).",
                url=url,
            )
        stream = _Inflate("gzip" if encoding == "x-gzip" else encoding).decode(stream)
    return iter(stream)


def _read_body(response: httpx.Response, *, url: str, max_bytes: int, deadline: float) -> bytes:
    """Stream and decode the body, stopping at ``max_bytes`` decoded or at the deadline.

    httpcore gives every read of the body the whole read timeout it had when the request
    was sent, so a piece arriving just before the deadline would buy another full wait: a
    timer shuts the connection's socket at the deadline instead, which ends a read waiting
    in the kernel at once.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchTooLarge(url=url, limit=max_bytes)
    encodings = [
        e.strip().lower()
        for e in response.headers.get_list("content-encoding", split_commas=True)
        if e.strip()
    ]
    chunks: list[bytes] = []
    size = 0
    watchdog = threading.Timer(_remaining(deadline, url), _cut, (response,))
    watchdog.daemon = True
    watchdog.start()
    try:
        for chunk in _decoded(response.iter_raw(), encodings, url):
            size += len(chunk)
            if size > max_bytes:
                raise FetchTooLarge(url=url, limit=max_bytes)
            chunks.append(chunk)
            _remaining(deadline, url)
    except zlib.error as exc:
        raise FetchFailed(
            f"Nội dung nén của trang bị hỏng (corrupt {'/'.join(encodings)} body).", url=url
        ) from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout("Trang phản hồi quá chậm (the page took too long).", url=url) from exc
    except httpx.HTTPError as exc:
        if time.monotonic() >= deadline:  # the watchdog cut the connection
            raise FetchTimeout(
                "Trang phản hồi quá chậm (the page took too long).", url=url
            ) from exc
        raise FetchFailed(f"Tải trang bị gián đoạn (download failed): {exc}", url=url) from exc
    finally:
        watchdog.cancel()
    return b"".join(chunks)


def _cut(response: httpx.Response) -> None:
    """Shut the response's socket: a read blocked on it returns at once (the deadline)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def fetch_page(
    url: str,
    *,
    allowed_hosts: Collection[str],
    max_bytes: int,
    timeout: float,
    max_redirects: int,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
    resolver: Resolver = system_resolver,
    forbidden: Callable[[str], bool] = is_forbidden_address,
) -> FetchedPage:
    """Fetch ``url`` safely and return its decoded HTML (see the module docstring).

    ``etag``/``last_modified`` from an earlier :class:`FetchedPage` make the request
    conditional; a 304 answer comes back as a page with ``not_modified`` set. A caller's
    ``client`` must not use a proxy (a proxy would resolve the name itself).
    ``forbidden`` decides which resolved addresses are refused (by default
    :func:`is_forbidden_address`; the test suite's also admits its loopback portal).

    Raises :class:`ForbiddenTarget`, :class:`FetchTooLarge`, :class:`FetchTimeout`,
    :class:`TooManyRedirects` or :class:`FetchFailed`.
    """
    deadline = time.monotonic() + timeout
    headers = {
        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
        "Accept-Encoding": _ACCEPT_ENCODING,
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own_client = client is None
    http = client or httpx.Client(trust_env=False, headers={"User-Agent": "tts-service"})
    try:
        current: str | httpx.URL = url
        for _hop in range(max_redirects + 1):
            target = _vet(
                current,
                allowed_hosts=allowed_hosts,
                resolver=resolver,
                forbidden=forbidden,
                deadline=deadline,
            )
            response = _send(http, target, headers, deadline)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    # Relative Location resolves against the name, never the pinned IP.
                    current = target.url.join(location)
                    logger.debug("redirect %s -> %s", target.url, current)
                    continue
                return _finish(
                    response, url=url, target=target, max_bytes=max_bytes, deadline=deadline
                )
            finally:
                response.close()
        raise TooManyRedirects(
            f"Trang chuyển hướng quá {max_redirects} lần (too many redirects).", url=url
        )
    finally:
        if own_client:
            http.close()


def _finish(
    response: httpx.Response, *, url: str, target: _Target, max_bytes: int, deadline: float
) -> FetchedPage:
    """Turn the last hop's response into a :class:`FetchedPage` or raise."""
    final_url = str(target.url)
    etag = response.headers.get("etag")
    modified = response.headers.get("last-modified")
    if response.status_code == 304:
        return FetchedPage(url, final_url, 304, "", etag, modified, None)
    if not 200 <= response.status_code < 300:
        raise FetchFailed(
            f"Trang trả về mã lỗi {response.status_code} (the site answered "
            f"{response.status_code}).",
            url=url,
            status=response.status_code,
        )
    media = response.headers.get("content-type", "text/html").split(";")[0].strip().lower()
    if media and not media.startswith(_HTML_TYPES):
        raise FetchFailed(
            f"Trang không phải HTML (the page is {media}, not HTML).",
            url=url,
            status=response.status_code,
        )
    body = _read_body(response, url=url, max_bytes=max_bytes, deadline=deadline)
    html, charset = _decode(body, response.charset_encoding)
    return FetchedPage(url, final_url, response.status_code, html, etag, modified, charset)
