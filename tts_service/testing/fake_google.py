"""A fake of Google Translate's ``batchexecute`` speech endpoint, served over real HTTP.

The machine that runs tests and benchmarks cannot reach Google, so the gTTS engine is
exercised against this instead: a threaded HTTP/1.1 server on ``127.0.0.1`` that reads the
``f.req`` form exactly as gTTS writes it and answers in Google's format with real MP3 bytes
in the house format (MPEG-2 Layer III, 24 kHz, mono, 32 kbps CBR). It ships with the
package, as ``httpx.MockTransport`` ships with httpx, so other projects' tests can use it.

Example::

    with FakeGoogle(latency=0.2) as fake:
        engine = GTTSEngine(base_url=fake.base_url)
        engine.synthesize("Xin chào.")
        fake.fail_next(2, status=429, retry_after=1)   # scripted faults come first
        fake.faults = FaultPlan(rate_5xx=0.1, seed=7)  # then seeded random ones

Nothing here sleeps a caller: latency and hung requests wait on events in the server's own
threads, and :meth:`FakeGoogle.stop` wakes them, closes every connection and joins every
thread it started.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import random
import selectors
import socket
import socketserver
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import lameenc

from tts_service.audio.format import HOUSE_FORMAT

__all__ = ["BATCHEXECUTE_PATH", "FakeGoogle", "FaultPlan", "ReceivedRequest", "fake_speech"]

logger = logging.getLogger(__name__)

BATCHEXECUTE_PATH = "/_/TranslateWebserverUi/data/batchexecute"
"""The path gTTS posts to; any other path gets a 404, as from Google."""

_RPC_ID = "jQ1olc"
_TONE_HZ = 250  # 24000 / 250 = 96 samples a period, so the tone tiles without clicks.
_TONE_AMPLITUDE = 900  # about -31 dBFS: audible in a player, quiet in headphones.

FaultKind = Literal["status", "hang", "truncated", "malformed", "drop"]


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Probabilities of each fault per request, drawn from a seeded generator.

    Rates are checked in the order listed and must sum to at most 1; the rest of the
    requests are answered normally. ``seed`` makes a run repeatable (for a given order of
    arrival).
    """

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    rate_truncated: float = 0.0
    rate_malformed: float = 0.0
    status_5xx: int = 503
    retry_after: float | None = None
    seed: int | None = 0

    def __post_init__(self) -> None:
        rates = self._rates()
        if any(rate < 0 for _, rate in rates) or sum(rate for _, rate in rates) > 1:
            raise ValueError(f"fault rates must be >= 0 and sum to <= 1, got {rates}")

    def _rates(self) -> list[tuple[_Fault, float]]:
        """Each rate with the fault it stands for."""
        return [
            (_Fault("status", 429, self.retry_after), self.rate_429),
            (_Fault("status", self.status_5xx, self.retry_after), self.rate_5xx),
            (_Fault("hang"), self.rate_timeout),
            (_Fault("truncated"), self.rate_truncated),
            (_Fault("malformed"), self.rate_malformed),
        ]


@dataclass(frozen=True, slots=True)
class _Fault:
    """One way of misbehaving: an error status, a hang, a bad 200 or a dropped connection."""

    kind: FaultKind
    status: int = 200
    retry_after: float | None = None


@dataclass(slots=True)
class ReceivedRequest:
    """What the fake saw of one request, for assertions and benchmarks.

    ``received_at`` (request read) and ``answered_at`` (answer about to be written, after
    the latency) are :func:`time.monotonic` readings; ``answered_at`` stays ``None`` for
    requests that were never answered (hangs, drops, stop).
    """

    text: str
    lang: str
    slow: bool
    body: str
    headers: dict[str, str]
    connection: int
    received_at: float
    fault: FaultKind | None = None
    answered_at: float | None = None


@lru_cache(maxsize=512)
def _tone_mp3(samples: int) -> bytes:
    """Encode ``samples`` samples of a quiet tone as house-format MP3 (cached per length)."""
    period = HOUSE_FORMAT.sample_rate // _TONE_HZ
    one_period = struct.pack(
        f"<{period}h",
        *(round(_TONE_AMPLITUDE * math.sin(2 * math.pi * i / period)) for i in range(period)),
    )
    pcm = (one_period * (samples // period + 1))[: samples * 2]
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(HOUSE_FORMAT.sample_rate)
    encoder.set_out_sample_rate(HOUSE_FORMAT.sample_rate)
    encoder.set_channels(HOUSE_FORMAT.channels)
    encoder.set_bit_rate(HOUSE_FORMAT.bitrate_kbps)
    encoder.set_quality(7)  # speed over fidelity: it is a test tone
    return bytes(encoder.encode(pcm) + encoder.flush())


def fake_speech(text: str, *, ms_per_char: float = 55.0, min_seconds: float = 0.3) -> bytes:
    """Return house-format MP3 "speech" for ``text``: a tone as long as reading it would be.

    About 55 ms a character is Google's Vietnamese pace; handy as a ``FakeEngine`` handler.
    """
    seconds = max(min_seconds, len(text) * ms_per_char / 1000)
    return _tone_mp3(round(seconds * HOUSE_FORMAT.sample_rate))


def _parse_f_req(body: str) -> tuple[str, str, bool]:
    """Return ``(text, lang, slow)`` from a gTTS form body; ``ValueError`` if it is not one.

    gTTS posts ``f.req=<url-quoted JSON>&`` where the JSON is
    ``[[["jQ1olc", "<JSON of [text, lang, speed, \\"null\\"]>", null, "generic"]]]``.
    """
    fields = parse_qs(body, keep_blank_values=True, strict_parsing=False)
    if "f.req" not in fields:
        raise ValueError("no f.req field")
    rpc = json.loads(fields["f.req"][0])
    call = rpc[0][0]
    if not isinstance(call, list) or call[0] != _RPC_ID or not isinstance(call[1], str):
        raise ValueError("not a jQ1olc call")
    params = json.loads(call[1])
    text, lang, speed = params[0], params[1], params[2]
    if not isinstance(text, str) or not isinstance(lang, str) or not text:
        raise ValueError("jQ1olc parameters are not [text, lang, speed, ...]")
    return text, lang, speed is True


def _envelope(entry: list[Any]) -> bytes:
    """Wrap one ``wrb.fr`` entry the way ``batchexecute`` does: guard, lengths, JSON lines."""
    first = json.dumps([entry, ["di", 42], ["af.httprm", 41, "-1234567890123456789", 7]])
    first = first.replace(", ", ",")
    last = json.dumps([["e", 4, None, None, len(first) + 64]]).replace(", ", ",")
    return f")]}}'\n\n{len(first) + 1}\n{first}\n{len(last) + 1}\n{last}\n".encode("ascii")


def _audio_answer(audio: bytes) -> bytes:
    """Google's answer carrying ``audio``: the base64 string inside a JSON string."""
    inner = json.dumps([base64.b64encode(audio).decode("ascii")])
    return _envelope(["wrb.fr", _RPC_ID, inner, None, None, None, "generic"])


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its fake and tracks its open connections."""

    # ThreadingMixIn only remembers (and joins on close) non-daemon threads; stop() makes
    # sure every handler returns, so joining them is what guarantees nothing is left.
    daemon_threads = False

    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup (``getfqdn``), which can stall."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Count the new connection before its thread starts, so stop() can close it."""
        self.fake._connection_opened(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection as its thread ends."""
        self.fake._connection_closed(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections cut by stop() or by clients are expected; keep them out of stderr."""
        logger.debug(
            "fake Google: connection %s ended with an error", client_address, exc_info=True
        )


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the fake; HTTP/1.1 so connections stay open between requests."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # would add ~40 ms to every answer and swamp the latency we mean to inject.
    disable_nagle_algorithm = True
    server_version = "ESF"  # what Google's frontends call themselves
    sys_version = ""

    def do_POST(self) -> None:
        """Answer a ``batchexecute`` call."""
        server = self.server
        if not isinstance(server, _Server):  # pragma: no cover - always true
            raise TypeError("handler used outside FakeGoogle")
        server.fake._handle(self)

    def do_GET(self) -> None:
        """Google's endpoint only takes POST."""
        self.send_simple(405, b"Method Not Allowed")

    def send_simple(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "text/html; charset=UTF-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send a complete response with a ``Content-Length``, so keep-alive keeps working."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        """Route the stdlib's access log to ``logging`` instead of stderr."""
        logger.debug("fake Google: " + format, *args)


class FakeGoogle:
    """Google Translate's speech endpoint on ``127.0.0.1``, with latency and faults on demand.

    Args:
        latency: seconds every answer is held back (per request; other requests proceed).
        ms_per_char: length of the returned audio per character of text.
        faults: random faults to inject, after any scripted ones.

    Counters: :attr:`requests` (texts, in arrival order), :attr:`received` (everything seen),
    :attr:`max_in_flight` (peak of requests being handled at once) and :attr:`connections`
    (TCP connections accepted: with keep-alive, fewer than requests).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        ms_per_char: float = 55.0,
        faults: FaultPlan | None = None,
    ) -> None:
        self.latency = latency
        self.ms_per_char = ms_per_char
        self._lock = threading.Lock()
        # Signalled on every arrival, so tests can wait for a request instead of sleeping.
        self._arrival = threading.Condition(self._lock)
        self._script: deque[_Fault] = deque()
        self._plan: FaultPlan | None = None
        self._rng = random.Random(0)
        self.faults = faults
        self._received: list[ReceivedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._connections = 0
        self._connection_ids = 0  # never reset, so ids stay unique for the fake's life
        self._open: dict[socket.socket, int] = {}
        self._stopping = threading.Event()
        self._hang_wake: list[tuple[socket.socket, socket.socket]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stop_pair: tuple[socket.socket, socket.socket] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeGoogle:
        """Bind a free port on 127.0.0.1 and start serving in a background thread."""
        if self._server is not None:
            raise RuntimeError("FakeGoogle is already running")
        self._stopping.clear()
        self._server = _Server(self)
        self._stop_pair = socket.socketpair()
        self._hang_wake.append(socket.socketpair())
        self._thread = threading.Thread(
            target=self._serve, name=f"fake-google-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def _serve(self) -> None:
        """Accept connections until the stop socket becomes readable (no polling interval)."""
        server, stop_pair = self._server, self._stop_pair
        if server is None or stop_pair is None:  # pragma: no cover - start() set them
            return
        # handle_request() selects on the listening socket itself; timeout 0 keeps it from
        # blocking should a wake-up turn out to have nothing to accept.
        server.timeout = 0
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(stop_pair[0], selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fileobj is stop_pair[0] for key, _ in ready):
                    return
                server.handle_request()

    def stop(self) -> None:
        """Wake held requests, close every connection, join every thread; idempotent."""
        server, thread, stop_pair = self._server, self._thread, self._stop_pair
        if server is None or thread is None or stop_pair is None:
            return
        self._stopping.set()
        self.release_hangs()
        stop_pair[1].send(b"x")
        thread.join()
        with self._lock:
            open_connections = list(self._open)
        for connection in open_connections:
            # Unblocks handler threads waiting for a keep-alive client's next request.
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()  # ThreadingMixIn joins the handler threads here
        for read_end, write_end in (*self._hang_wake, stop_pair):
            read_end.close()
            write_end.close()
        self._hang_wake.clear()
        self._server = self._thread = self._stop_pair = None

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the fake listens on."""
        if self._server is None:
            raise RuntimeError("FakeGoogle is not running; use start() or a with block")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: what to pass as the engine's ``base_url``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The full ``batchexecute`` URL, for clients that want it whole."""
        return self.base_url + BATCHEXECUTE_PATH

    # -- fault injection ---------------------------------------------------------------

    @property
    def faults(self) -> FaultPlan | None:
        """The random fault plan; setting it reseeds the generator from ``plan.seed``."""
        return self._plan

    @faults.setter
    def faults(self, plan: FaultPlan | None) -> None:
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed if plan is not None else 0)

    def fail_next(self, n: int = 1, *, status: int = 429, retry_after: float | None = None) -> None:
        """Answer the next ``n`` requests with ``status`` (and a ``Retry-After`` if given)."""
        self._push(n, _Fault("status", status, retry_after))

    def hang_next(self, n: int = 1) -> None:
        """Hold the next ``n`` requests unanswered until the client gives up or we stop."""
        self._push(n, _Fault("hang"))

    def truncate_next(self, n: int = 1) -> None:
        """Answer the next ``n`` requests 200 with the body cut in the middle of the audio."""
        self._push(n, _Fault("truncated"))

    def malform_next(self, n: int = 1) -> None:
        """Answer the next ``n`` requests 200 with a well-formed envelope but no audio."""
        self._push(n, _Fault("malformed"))

    def drop_next(self, n: int = 1) -> None:
        """Close the connection on the next ``n`` requests without answering."""
        self._push(n, _Fault("drop"))

    def _push(self, n: int, fault: _Fault) -> None:
        with self._lock:
            self._script.extend([fault] * n)

    def release_hangs(self) -> None:
        """Let every currently held request go (its connection is closed, unanswered)."""
        with self._lock:
            if self._hang_wake:
                # Closing the write end makes the read end readable (EOF) for every waiter;
                # new hangs wait on a fresh pair.
                self._hang_wake[-1][1].close()
                if not self._stopping.is_set():
                    self._hang_wake.append(socket.socketpair())

    def _next_fault(self) -> _Fault | None:
        """The scripted fault, else a random one from the plan, else ``None``."""
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self._plan is None:
                return None
            draw = self._rng.random()
            for fault, rate in self._plan._rates():
                if draw < rate:
                    return fault
                draw -= rate
            return None

    # -- counters ----------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """The texts received so far, in arrival order."""
        with self._lock:
            return [request.text for request in self._received]

    @property
    def received(self) -> list[ReceivedRequest]:
        """Everything seen of each request so far, in arrival order."""
        with self._lock:
            return list(self._received)

    @property
    def max_in_flight(self) -> int:
        """The most requests that were being handled at the same moment."""
        with self._lock:
            return self._max_in_flight

    @property
    def in_flight(self) -> int:
        """Requests received and not yet answered, dropped or released."""
        with self._lock:
            return self._in_flight

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._connections

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Block until ``n`` requests have arrived in total; ``False`` if ``timeout`` passed.

        Lets a test act while requests are held (hung or delayed) without sleeping.
        """
        with self._arrival:
            return self._arrival.wait_for(lambda: len(self._received) >= n, timeout)

    def reset(self) -> None:
        """Forget received requests, counters and pending scripted faults (not the plan).

        Connections already open stay open and are not counted again.
        """
        with self._lock:
            self._received.clear()
            self._script.clear()
            self._max_in_flight = self._in_flight
            self._connections = 0

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections += 1
            self._connection_ids += 1
            self._open[connection] = self._connection_ids

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.pop(connection, None)

    # -- answering ---------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        """Read one request, misbehave if told to, otherwise answer with audio."""
        length = handler.headers.get("Content-Length")
        if length is None or not length.isdigit():
            handler.send_simple(411, b"Length Required")
            return
        body = handler.rfile.read(int(length)).decode("utf-8", errors="replace")
        if urlsplit(handler.path).path != BATCHEXECUTE_PATH:
            handler.send_simple(404, b"Not Found")
            return
        try:
            text, lang, slow = _parse_f_req(body)
        except (ValueError, LookupError, TypeError):
            handler.send_simple(400, b"Bad Request")
            return
        fault = self._next_fault()
        with self._lock:
            record = ReceivedRequest(
                text=text,
                lang=lang,
                slow=slow,
                body=body,
                headers=dict(handler.headers.items()),
                connection=self._open.get(handler.request, 0),
                received_at=time.monotonic(),
                fault=fault.kind if fault is not None else None,
            )
            self._received.append(record)
            self._arrival.notify_all()
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            self._answer(handler, text, fault, record)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(
        self, handler: _Handler, text: str, fault: _Fault | None, record: ReceivedRequest
    ) -> None:
        """Write the answer ``fault`` calls for (or the audio), after the latency."""
        if fault is not None and fault.kind == "hang":
            self._hold(handler)
            handler.close_connection = True
            return
        if self.latency > 0 and self._stopping.wait(self.latency):
            handler.close_connection = True
            return
        if fault is not None and fault.kind == "drop":
            handler.close_connection = True
            return
        status, payload, headers = self._response(text, fault, handler)
        # Stamped before writing: once the first byte is out the client may already be
        # looking at answered_at, so stamping afterwards would race it.
        with self._lock:
            record.answered_at = time.monotonic()
        handler.send_simple(
            status,
            payload,
            content_type="application/json; charset=utf-8" if status == 200 else "text/html",
            headers=headers,
        )

    def _response(
        self, text: str, fault: _Fault | None, handler: _Handler
    ) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and extra headers for an answered request."""
        if fault is not None and fault.kind == "status":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            reason = handler.responses.get(fault.status, ("Error",))[0]
            return (
                fault.status,
                f"<html><title>{fault.status} {reason}</title></html>".encode(),
                headers,
            )
        if fault is not None and fault.kind == "malformed":
            return 200, _envelope(["wrb.fr", _RPC_ID, None, None, None, [3], "generic"]), {}
        answer = _audio_answer(fake_speech(text, ms_per_char=self.ms_per_char))
        if fault is not None and fault.kind == "truncated":
            # Cut inside the base64, as a connection dropped mid-body would leave it.
            start, end = answer.index(b'[\\"') + 3, answer.index(b'\\"]')
            answer = answer[: (start + end) // 2]
        return 200, answer, {}

    def _hold(self, handler: _Handler) -> None:
        """Block this request's thread until the client disconnects or hangs are released."""
        with self._lock:
            wake = self._hang_wake[-1][0] if self._hang_wake else None
        if wake is None or self._stopping.is_set():
            return
        with selectors.DefaultSelector() as selector:
            # EOF on the client's socket (it timed out and closed) or on the wake socket.
            selector.register(handler.connection, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            selector.select()
