"""fetch_page against a real HTTP server on 127.0.0.1, with injected DNS answers.

No test sends traffic anywhere but 127.0.0.1: test host names resolve through
``resolver`` fixtures, and loopback is reachable only through the tests' own address check
(``tests.helpers.forbidden_but_loopback``).
Refused targets are refused before any connection; a client whose transport fails the
test makes sure of it.
"""

from __future__ import annotations

import gzip
import inspect
import threading
import time
import tracemalloc
import unicodedata
import zlib
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.helpers import forbidden_but_loopback
from tts_service.errors import (
    FetchFailed,
    FetchTimeout,
    FetchTooLarge,
    ForbiddenTarget,
    InputError,
    TooManyRedirects,
)
from tts_service.fetch import fetch_page, is_forbidden_address

PAGE = "<html><head><title>Tin</title></head><body><h1>Lạng Sơn đón khách</h1></body></html>"
# "Thông báo: Đắk Lắk" in windows-1258, whose tone marks are combining characters.
TEXT_1258 = "Thông báo: Đắk Lắk tiếp nhận hồ sơ"


_TONES = "\u0300\u0301\u0303\u0309\u0323"


@cache
def double_gzip_bomb() -> bytes:
    """64 MB of "a" gzipped twice: a few hundred bytes on the wire."""
    return gzip.compress(gzip.compress(b"a" * (64 * 1024 * 1024), compresslevel=9))


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper, as some servers send ``Content-Encoding: deflate``."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# Plain ASCII that punycode "decodes" without an error (into other text), and that a
# UnicodeError, not a UnicodeDecodeError, refuses once a "<" follows the last "-".
ASCII_PAGE = "<html><body><p>Lang Son don khach</p></body></html>\n-abc"

# Released by the test once it has its answer: the server's handler waits on it instead of
# sending the rest of a slow body.
BODY_GATE = threading.Event()


def to_1258(text: str) -> bytes:
    """Encode as windows-1258 does: base letters precomposed, tone marks combining."""
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in _TONES)
        out.append(
            unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES)) + tones
        )
    return "".join(out).encode("cp1258")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, str]] = []

    def log_message(self, format, *args):  # noqa: A002 - silence the test server
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(n.lower() == "content-length" for n, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        _Handler.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        port = self.server.server_address[1]
        html = [("Content-Type", "text/html; charset=utf-8")]
        path = self.path
        if path == "/ok":
            self._send(200, PAGE.encode(), html)
        elif path == "/header-1258":
            body = to_1258(f"<html><body><p>{TEXT_1258}</p></body></html>")
            self._send(200, body, [("Content-Type", "text/html; charset=windows-1258")])
        elif path == "/meta-1258":
            body = to_1258(
                '<html><head><meta http-equiv="Content-Type" content="text/html; '
                f'charset=windows-1258"></head><body><p>{TEXT_1258}</p></body></html>'
            )
            self._send(200, body, [("Content-Type", "text/html")])
        elif path == "/meta-utf8":
            body = f'<html><head><meta charset="utf-8"></head><p>{TEXT_1258}</p></html>'.encode()
            self._send(200, body, [("Content-Type", "text/html")])
        elif path == "/redirect-ok":
            self._send(302, headers=[("Location", "/ok")])
        elif path == "/redirect-internal":
            self._send(302, headers=[("Location", f"http://intranet.portal.gov.vn:{port}/ok")])
        elif path == "/redirect-metadata":
            self._send(301, headers=[("Location", "http://169.254.169.254/latest/meta-data/")])
        elif path.startswith("/loop"):
            n = int(path.removeprefix("/loop") or 0)
            self._send(302, headers=[("Location", f"/loop{n + 1}")])
        elif path == "/big":
            self._send(200, b"<p>" + b"x" * 200_000 + b"</p>", html)
        elif path == "/big-unannounced":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"<p>" + b"y" * 10_000 + b"</p>")
        elif path in ("/stall", "/trickle"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<html>")
            self.wfile.flush()
            for _ in range(30 if path == "/trickle" else 1):
                time.sleep(0.1 if path == "/trickle" else 3)
                try:
                    self.wfile.write(b"<p>.</p>")
                    self.wfile.flush()
                except OSError:
                    return
        elif path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, headers=[("ETag", '"v1"')])
            else:
                headers = [
                    *html,
                    ("ETag", '"v1"'),
                    ("Last-Modified", "Fri, 09 Jul 2021 09:00:00 GMT"),
                ]
                self._send(200, PAGE.encode(), headers)
        elif path == "/modified-since":
            if self.headers.get("If-Modified-Since") == "Fri, 09 Jul 2021 09:00:00 GMT":
                self._send(304)
            else:
                self._send(200, PAGE.encode(), html)
        elif path == "/gzip-gzip-bomb":
            self._send(200, double_gzip_bomb(), [*html, ("Content-Encoding", "gzip, gzip")])
        elif path == "/gzip-gzip":
            body = gzip.compress(gzip.compress(PAGE.encode()))
            self._send(
                200, body, [*html, ("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")]
            )
        elif path == "/deflate-gzip":
            body = gzip.compress(zlib.compress(PAGE.encode()))
            self._send(200, body, [*html, ("Content-Encoding", "deflate, gzip")])
        elif path == "/raw-deflate":
            self._send(200, raw_deflate(PAGE.encode()), [*html, ("Content-Encoding", "deflate")])
        elif path == "/concatenated-gzip":
            half = len(PAGE) // 2
            body = gzip.compress(PAGE[:half].encode()) + gzip.compress(PAGE[half:].encode())
            self._send(200, body, [*html, ("Content-Encoding", "gzip")])
        elif path == "/br":
            self._send(200, b"\x1b\x00\x00", [*html, ("Content-Encoding", "br")])
        elif path == "/corrupt-gzip":
            self._send(200, b"\x1f\x8b\x08\x00garbage", [*html, ("Content-Encoding", "gzip")])
        elif path.startswith("/charset-"):
            charset, _, which = path.removeprefix("/charset-").partition("/")
            body = ASCII_PAGE if which == "ascii" else PAGE
            self._send(200, body.encode(), [("Content-Type", f"text/html; charset={charset}")])
        elif path == "/late-then-stall":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<html>")
            self.wfile.flush()
            # One piece just before the client's deadline, then nothing until released.
            time.sleep(SLOW_TIMEOUT_S * 0.8)
            try:
                self.wfile.write(b"<p>.</p>")
                self.wfile.flush()
            except OSError:
                return
            BODY_GATE.wait(30)
        elif path == "/pdf":
            self._send(200, b"%PDF-1.4", [("Content-Type", "application/pdf")])
        else:
            self._send(404, b"<p>Not found</p>", html)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """The client hanging up on an oversized or slow body is the point of the test."""


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


DNS = {
    "portal.gov.vn": ["127.0.0.1"],
    "sokhdt.portal.gov.vn": ["127.0.0.1"],
    "intranet.portal.gov.vn": ["10.0.0.7"],
}


def resolver(host: str, port: int) -> list[str]:  # noqa: ARG001 - same shape as the real one
    """Test DNS: only the names above exist, all on loopback or private addresses."""
    if host not in DNS:
        raise OSError(f"no such test host {host}")
    return DNS[host]


def fetch(url: str, **overrides):
    options = {
        "allowed_hosts": ["portal.gov.vn"],
        "max_bytes": 100_000,
        "timeout": 5.0,
        "max_redirects": 3,
        "resolver": resolver,
        "forbidden": forbidden_but_loopback,
    }
    options.update(overrides)
    return fetch_page(url, **options)


def no_traffic_client() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        pytest.fail(f"a refused target was contacted: {request.url}")

    return httpx.Client(transport=httpx.MockTransport(refuse))


# --- allowed fetches ---------------------------------------------------------------


def test_allowed_page_is_fetched_from_the_pinned_ip(server):
    page = fetch(f"http://portal.gov.vn:{server}/ok")
    assert page.status == 200 and page.html == PAGE and page.charset == "utf-8"
    assert page.final_url == f"http://portal.gov.vn:{server}/ok"
    assert _Handler.seen[-1]["host"] == f"portal.gov.vn:{server}"


def test_subdomain_of_an_allowed_domain_is_allowed(server):
    assert fetch(f"http://SoKHDT.Portal.gov.vn.:{server}/ok").status == 200


def test_each_hop_resolves_its_name_once(server):
    calls: list[str] = []

    def counting(host: str, port: int) -> list[str]:
        calls.append(host)
        return resolver(host, port)

    page = fetch(f"http://portal.gov.vn:{server}/redirect-ok", resolver=counting)
    assert page.final_url == f"http://portal.gov.vn:{server}/ok" and page.html == PAGE
    # Two hops, two lookups: httpx connects to the vetted IP and never resolves again.
    assert calls == ["portal.gov.vn", "portal.gov.vn"]


@pytest.mark.parametrize(
    ("path", "charset"),
    [("/header-1258", "windows-1258"), ("/meta-1258", "windows-1258"), ("/meta-utf8", "utf-8")],
)
def test_charset_from_header_or_meta(server, path, charset):
    page = fetch(f"http://portal.gov.vn:{server}{path}")
    assert TEXT_1258 in page.html  # NFC: "ắ" is one character again
    assert page.charset == charset


def test_conditional_request_with_etag(server):
    first = fetch(f"http://portal.gov.vn:{server}/etag")
    assert first.etag == '"v1"' and first.last_modified and not first.not_modified
    again = fetch(f"http://portal.gov.vn:{server}/etag", etag=first.etag)
    assert again.not_modified and again.status == 304 and again.html == ""


def test_conditional_request_with_last_modified(server):
    page = fetch(
        f"http://portal.gov.vn:{server}/modified-since",
        last_modified="Fri, 09 Jul 2021 09:00:00 GMT",
    )
    assert page.not_modified


# --- refused targets ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://portal.gov.vn@127.0.0.1/",
        "http://user:pass@portal.gov.vn/",
        "ftp://portal.gov.vn/",
        "file:///etc/passwd",
        "gopher://portal.gov.vn/",
        "javascript:alert(1)",
        "http://evil-portal.gov.vn/",
        "http://portal.gov.vn.evil.example/",
        "http://169.254.169.254/latest/meta-data/",
        "not a url",
    ],
)
def test_forbidden_urls_are_refused_before_resolving(url):
    def unreachable(host: str, port: int) -> list[str]:
        pytest.fail(f"{url} should be refused before resolving {host}:{port}")

    with pytest.raises(ForbiddenTarget) as caught:
        fetch(url, resolver=unreachable, client=no_traffic_client())
    assert isinstance(caught.value, InputError)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.251",
        "255.255.255.255",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
    ],
)
def test_names_resolving_to_internal_addresses_are_refused(address):
    with pytest.raises(ForbiddenTarget):
        fetch(
            "https://portal.gov.vn/bai-viet",
            resolver=lambda host, port: [address],
            forbidden=is_forbidden_address,
            client=no_traffic_client(),
        )


def test_one_internal_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(ForbiddenTarget):
        fetch(
            "https://portal.gov.vn/",
            resolver=lambda host, port: ["203.113.131.1", "10.0.0.1"],
            client=no_traffic_client(),
        )


def test_the_tests_address_check_admits_loopback_only():
    assert not forbidden_but_loopback("127.0.0.1") and not forbidden_but_loopback("::1")
    assert is_forbidden_address("127.0.0.1") and is_forbidden_address("::1")
    assert forbidden_but_loopback("10.0.0.1")
    assert forbidden_but_loopback("169.254.169.254")
    assert forbidden_but_loopback("::ffff:127.0.0.1") == is_forbidden_address("::ffff:127.0.0.1")
    assert not is_forbidden_address("203.113.131.1")
    assert not is_forbidden_address("2402:800::1")


def test_loopback_server_is_refused_by_the_default_check(server):
    with pytest.raises(ForbiddenTarget):
        fetch(f"http://portal.gov.vn:{server}/ok", forbidden=is_forbidden_address)


def test_fetch_page_has_no_test_switch():
    # The production code path takes no test-only flag: tests widen the address check.
    assert "allow_loopback_for_tests" not in inspect.signature(fetch_page).parameters
    assert fetch_page.__kwdefaults__["forbidden"] is is_forbidden_address


@pytest.mark.parametrize("path", ["/redirect-internal", "/redirect-metadata"])
def test_redirect_to_a_forbidden_target_is_refused(server, path):
    before = len(_Handler.seen)
    with pytest.raises(ForbiddenTarget):
        fetch(f"http://portal.gov.vn:{server}{path}")
    assert len(_Handler.seen) == before + 1  # only the first hop reached a server


def test_too_many_redirects(server):
    with pytest.raises(TooManyRedirects):
        fetch(f"http://portal.gov.vn:{server}/loop", max_redirects=3)


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_oversized_body(server, path):
    with pytest.raises(FetchTooLarge) as caught:
        fetch(f"http://portal.gov.vn:{server}{path}")
    assert isinstance(caught.value, InputError) and caught.value.limit == 100_000


@pytest.mark.parametrize("path", ["/stall", "/trickle"])
def test_slow_body_beyond_the_time_limit(server, path):
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(f"http://portal.gov.vn:{server}{path}", timeout=0.6)
    assert time.monotonic() - started < 2.0


# -- Content-Encoding, charsets, the overall deadline ----------------------------------


def test_a_double_gzip_bomb_stops_at_the_size_limit_without_inflating(server):
    double_gzip_bomb()  # built before memory is traced
    tracemalloc.start()
    try:
        with pytest.raises(FetchTooLarge) as caught:
            fetch(f"http://portal.gov.vn:{server}/gzip-gzip-bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.limit == 100_000
    # A few decompression pieces and the 100 KB allowed, not the 64 MB it inflates to.
    assert peak < 4 * 1024 * 1024, peak


@pytest.mark.parametrize(
    "path", ["/gzip-gzip", "/deflate-gzip", "/raw-deflate", "/concatenated-gzip"]
)
def test_stacked_and_raw_encodings_are_decoded(server, path):
    page = fetch(f"http://portal.gov.vn:{server}{path}")
    assert page.html == PAGE


def test_the_encodings_asked_for_are_the_ones_decoded(server):
    fetch(f"http://portal.gov.vn:{server}/ok")
    assert _Handler.seen[-1]["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("path", ["/br", "/corrupt-gzip"])
def test_an_encoding_that_cannot_be_undone_is_a_clean_fetch_error(server, path):
    with pytest.raises(FetchFailed) as caught:
        fetch(f"http://portal.gov.vn:{server}{path}")
    assert not isinstance(caught.value, InputError)


@pytest.mark.parametrize(
    "charset", ["punycode", "idna", "unicode_escape", "raw-unicode-escape", "rot13", "zlib"]
)
@pytest.mark.parametrize(
    ("which", "expected"), [("utf8", PAGE), ("ascii", ASCII_PAGE)], ids=["utf8", "ascii"]
)
def test_a_codec_that_is_not_a_charset_counts_as_unknown(server, charset, which, expected):
    page = fetch(f"http://portal.gov.vn:{server}/charset-{charset}/{which}")
    assert page.html == expected
    assert page.charset != charset


def test_a_dns_lookup_cannot_outlast_the_deadline():
    gate, returned = threading.Event(), threading.Event()

    def stuck(host: str, port: int) -> list[str]:  # noqa: ARG001 - the resolver's shape
        gate.wait(30)
        returned.set()
        return ["127.0.0.1"]

    try:
        with pytest.raises(FetchTimeout):
            fetch("http://portal.gov.vn/ok", resolver=stuck, timeout=0.3)
        # The fetch gave up while the lookup was still waiting.
        assert not returned.is_set()
    finally:
        gate.set()


SLOW_TIMEOUT_S = 2.0


def test_the_deadline_holds_across_reads_of_the_body(server):
    started = time.monotonic()
    try:
        with pytest.raises(FetchTimeout):
            fetch(f"http://portal.gov.vn:{server}/late-then-stall", timeout=SLOW_TIMEOUT_S)
        took = time.monotonic() - started
    finally:
        BODY_GATE.set()
    # A piece arrives at 80 % of the deadline; the next read may wait only the 20 % left,
    # not a whole timeout again (which made 1.8 × the deadline).
    assert took < SLOW_TIMEOUT_S * 1.4, took


def test_error_status_and_non_html(server):
    with pytest.raises(FetchFailed) as caught:
        fetch(f"http://portal.gov.vn:{server}/missing")
    assert caught.value.status == 404 and not isinstance(caught.value, InputError)
    with pytest.raises(FetchFailed):
        fetch(f"http://portal.gov.vn:{server}/pdf")


def test_unknown_host_fails_cleanly():
    with pytest.raises(FetchFailed):
        fetch("http://khong-co.portal.gov.vn/", client=no_traffic_client())
