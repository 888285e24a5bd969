"""Slow clients (slowloris) are refused cleanly while everyone else is served.

The server runs with the HTTP protocol ``tts-service serve`` itself hands uvicorn (taken
from the command, with ``uvicorn.run`` stubbed out), on a real loopback socket. Slow
clients are paced by ``select``: they send their next byte only while the server has said
nothing, so they stop the moment it answers or hangs up.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from tests.helpers import text_tone, tone_mp3
from tts_service.api.main import create_app
from tts_service.api.server import BODY_MIN_RATE, SlowClientProtocol
from tts_service.cli import main
from tts_service.settings import get_settings
from tts_service.testing import FakeEngine

TIMEOUT_S = 0.5
# A slow client's pace: far slower than any real client, far quicker than the timeout.
PACE_S = 0.05
# How long anything here may take before the test gives up: generous, never a measurement.
BOUND_S = 15.0
# A request whose headers take BOUND_S / PACE_S bytes and more, a byte a pace.
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Padding: " + b"a" * 400 + b"\r\n\r\n"


def served_protocol(monkeypatch: pytest.MonkeyPatch, timeout: str | None) -> type:
    """The HTTP protocol class ``tts-service serve`` gives uvicorn, with that setting."""
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    if timeout is not None:
        monkeypatch.setenv("TTS_HEADER_TIMEOUT_S", timeout)
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    protocol = seen["http"]
    assert isinstance(protocol, type)
    return protocol


@contextmanager
def live_server(app, protocol: type) -> Iterator[int]:
    """Serve ``app`` on a loopback port with ``protocol``; yields the port.

    As ``tests.helpers.live_server``, which runs uvicorn's default protocol instead.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", http=protocol)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def served(monkeypatch, make_service):
    """The port of a service served with ``tts-service serve``'s protocol, and the service."""
    service = make_service(FakeEngine(text_tone, name="fake"))
    protocol = served_protocol(monkeypatch, str(TIMEOUT_S))
    with live_server(create_app(service.settings, service=service), protocol) as bound:
        yield bound, service


@pytest.fixture
def port(served):
    return served[0]


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=BOUND_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by BOUND_S)."""
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def trickle(sock: socket.socket, data: bytes) -> bytes:
    """Send ``data`` a byte per pace until the server answers or closes; what it sent back."""
    deadline = time.monotonic() + BOUND_S
    for byte in data:
        readable, _, _ = select.select([sock], [], [], PACE_S)
        if readable:
            return read_to_end(sock)
        assert time.monotonic() < deadline, "the server let a slow client go on"
        sock.sendall(bytes([byte]))
    raise AssertionError("the slow client sent its whole request without being cut off")


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, leaving the connection open."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "closed before the answer's head"
        head += chunk
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    return head + body


def assert_408(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in head.lower()
    assert "quá chậm" in json.loads(body)["detail"]


def test_serve_hands_uvicorn_the_slow_client_protocol(monkeypatch):
    protocol = served_protocol(monkeypatch, None)
    assert issubclass(protocol, SlowClientProtocol) and protocol.header_timeout_s == 10.0
    protocol = served_protocol(monkeypatch, "2.5")
    assert issubclass(protocol, SlowClientProtocol) and protocol.header_timeout_s == 2.5


def test_trickled_headers_get_408_while_other_clients_are_served(port):
    answers: list[bytes] = []

    def slow_client() -> None:
        with connect(port) as sock:
            answers.append(trickle(sock, SLOW_HEAD))

    slow = [threading.Thread(target=slow_client) for _ in range(8)]
    for thread in slow:
        thread.start()
    served = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=BOUND_S) as client:
        while served == 0 or any(thread.is_alive() for thread in slow):
            assert client.get("/healthz").status_code == 200
            served += 1
    for thread in slow:
        thread.join()
    assert len(answers) == 8
    for answer in answers:
        assert_408(answer)


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(port):
    with connect(port) as sock:
        assert read_to_end(sock) == b""


def test_the_next_request_on_a_kept_alive_connection_is_timed_too(port):
    with connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        # uvicorn's keep-alive timer stops at the first byte of the next request.
        assert_408(trickle(sock, SLOW_HEAD))


def test_a_trickled_body_gets_408(port):
    head = (
        b"POST /v1/normalize HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    with connect(port) as sock:
        sock.sendall(head)
        assert_408(trickle(sock, b'{"text": "' + b"a" * 980 + b'"}'))


def test_a_slow_but_steady_body_is_read(port):
    # Well above the minimum rate, and still arriving after the first timeout is spent.
    body = json.dumps({"text": "Xin chào các bạn. " * 200}).encode()
    piece = int(BODY_MIN_RATE * 4 * PACE_S)
    assert len(body) / (BODY_MIN_RATE * 4) > 2 * TIMEOUT_S
    head = (
        b"POST /v1/normalize HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    with connect(port) as sock:
        sock.sendall(head)
        for start in range(0, len(body), piece):
            readable, _, _ = select.select([sock], [], [], PACE_S)
            assert not readable, read_to_end(sock)[:300]
            sock.sendall(body[start : start + piece])
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]


def test_clients_that_stop_reading_hold_only_their_own_connection(served):
    """Slow readers: a player that stops pulling audio (or a script that never reads).

    Their answers wait in their own socket buffers; everyone else is served meanwhile, and
    a stalled reader that goes on later still gets every byte.
    """
    port, service = served
    # A long article's audio, bigger than all the kernel may buffer for the server's socket
    # (tcp_wmem's maximum, 4 MiB here) plus uvicorn's 64 KiB write buffer, so the server
    # really has to wait for the readers (checked with `ss -tm` while writing this test:
    # with 1.3 MB the whole file sat in the kernel's send queue, and nothing was tested).
    wmem = Path("/proc/sys/net/ipv4/tcp_wmem")
    biggest = int(wmem.read_text().split()[2]) if wmem.exists() else 4 << 20
    piece = tone_mp3(10.0)
    mp3 = piece * (biggest // len(piece) + 16)
    key = "5a" * 20
    service.cache.put_article(
        key,
        mp3=mp3,
        vtt="WEBVTT\n",
        meta={"engine": "fake", "duration_s": 2160.0, "chars": 0, "title": "Bài dài"},
    )
    request = f"GET /v1/audio/{key}.mp3 HTTP/1.1\r\nHost: test\r\n\r\n".encode()
    stalled = []
    for _ in range(4):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(BOUND_S)
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        assert sock.recv(12) == b"HTTP/1.1 200"
        stalled.append(sock)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=BOUND_S) as client:
            for _ in range(2):
                assert client.get("/healthz").status_code == 200
                answer = client.get(f"/v1/audio/{key}.mp3")
                assert answer.status_code == 200 and answer.content == mp3
        for sock in stalled:
            head = b"HTTP/1.1 200"
            while b"\r\n\r\n" not in head:
                head += sock.recv(1)
            body = b""
            while len(body) < len(mp3):
                chunk = sock.recv(1 << 16)
                assert chunk, "the server gave up on a reader that only paused"
                body += chunk
            assert body == mp3
    finally:
        for sock in stalled:
            sock.close()
