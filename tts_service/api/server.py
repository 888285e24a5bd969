"""The HTTP/1.1 protocol ``tts-service serve`` gives uvicorn: h11 with deadlines for slow clients.

uvicorn's own h11 protocol (0.54) never times out a request that is still arriving: no
timer runs on a new connection until its first response, the keep-alive timer is cancelled
by the first byte of the next request, and a request body is awaited for as long as the
connection stays open. A client that sends nothing, or trickles its headers or its body a
byte at a time (slowloris), holds a connection and a file descriptor for ever.
:class:`SlowClientProtocol` adds the two missing deadlines:

- the request headers must be complete within ``TTS_HEADER_TIMEOUT_S`` of the connection
  opening, or of the first byte of the next request on a kept-alive connection;
- the body gets the same time, plus one second per :data:`BODY_MIN_RATE` bytes received
  (Apache's mod_reqtimeout rule): a slow but steady upload is never cut off, a trickle is.

A client past its deadline is answered 408 and disconnected (gracefully, so the 408 is not
lost to a reset); one that sent nothing at all is just disconnected, as an idle keep-alive
connection is. Other clients are not affected: each deadline is one timer on the event loop.
The class is always h11, also where uvicorn would pick httptools (which has the same gap).

:func:`uvicorn_options` is everything ``tts-service serve`` gives uvicorn: that protocol,
and forwarded headers believed only from the proxies the operator names. uvicorn's own
default believes ``X-Forwarded-For`` from 127.0.0.1, so any local process, or a proxy on
the same host that passes the header through, could claim to be any client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from tts_service.settings import Settings

__all__ = [
    "BODY_MIN_RATE",
    "LINGER_S",
    "SlowClientProtocol",
    "slow_client_protocol",
    "uvicorn_options",
]

logger = logging.getLogger(__name__)

#: Bytes a second a request body must average once its first ``TTS_HEADER_TIMEOUT_S`` is
#: spent: a 1.6 MB body (the default ``TTS_MAX_BODY_BYTES``) may take nearly an hour, while
#: a client dribbling a byte a second is cut off after the timeout.
BODY_MIN_RATE = 500.0

#: Seconds a refused client's further bytes are read and dropped after its 408 (see
#: ``_refuse``), at most; then the connection is dropped whatever the client does.
LINGER_S = 2.0

_DETAIL = "Yêu cầu gửi đến quá chậm (the request did not arrive in time)."
_BODY = json.dumps({"detail": _DETAIL}, ensure_ascii=False).encode("utf-8")
# Written straight to the socket, not through h11: the connection ends right after,
# whatever state h11 is in (it may not even have seen a request line yet).
_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n" % len(_BODY)
) + _BODY

_Phase = Literal["headers", "body"]


class SlowClientProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for the request headers and for the body.

    One timer per connection, armed only while a request is arriving. A body's deadline
    moves on as its bytes come; the timer then re-arms for the rest instead of being
    replaced on every packet.
    """

    #: Seconds for the request headers, and the body's first allowance.
    header_timeout_s: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: _Phase | None = None
        self._due = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock: uvicorn runs none until the first response."""
        super().connection_made(transport)
        self._arm("headers")

    def data_received(self, data: bytes) -> None:
        """Feed h11, then follow the request to its next phase."""
        if self._refused:
            return  # answered 408: what the client still sends is read and dropped
        in_body = self.conn.their_state is h11.SEND_BODY
        super().data_received(data)
        # Only bytes that arrived while the body was awaited earn it time (not the headers').
        self._follow(len(data) if in_body else 0)

    def on_response_complete(self) -> None:
        """A pipelined request may be parsed here, after the response, not on new data."""
        super().on_response_complete()
        if not self._refused:
            self._follow(0)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock with the connection."""
        self._disarm()
        super().connection_lost(exc)

    # -- the clock ---------------------------------------------------------------------

    def _follow(self, body_bytes: int) -> None:
        """Arm, move or stop the deadline to match what h11 is waiting for now."""
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._phase != "headers":
                self._disarm()
                # Between requests uvicorn's keep-alive timer watches an idle connection;
                # the clock starts with the first byte of the next request.
                if self.conn.trailing_data[0]:
                    self._arm("headers")
        elif state is h11.SEND_BODY:
            if self._phase != "body":
                self._disarm()
                self._arm("body")
            # Once the app has answered (413, say), the rest of the body earns no more time.
            if not self.cycle.response_started:
                self._due += body_bytes / BODY_MIN_RATE
        else:
            # The request is in (or the connection is done for): the app takes over.
            self._disarm()

    def _arm(self, phase: _Phase) -> None:
        self._phase = phase
        self._due = self.loop.time() + self.header_timeout_s
        self._timer = self.loop.call_later(self.header_timeout_s, self._expire)

    def _disarm(self) -> None:
        self._phase = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        left = self._due - self.loop.time()
        if left > 0:  # the body kept coming: its deadline moved on
            self._timer = self.loop.call_later(left, self._expire)
            return
        phase, self._phase = self._phase, None
        if self.transport.is_closing():
            return
        if phase == "headers" and not self.conn.trailing_data[0]:
            # Nothing asked, nothing to answer (a browser's spare pre-connection, say).
            logger.debug("connection from %s sent no request; closed", self.client)
            self.transport.close()
            return
        logger.info("request %s from %s did not arrive in time; closed", phase, self.client)
        if phase == "body" and self.cycle.response_started:
            # The app answered without waiting for the body (413, say); what is left of its
            # answer is not worth holding the connection for.
            self.transport.abort()
            return
        if phase == "body":
            # The app is awaiting the body: it sees a disconnect now, and cannot answer
            # after the 408.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self._refuse()

    def _refuse(self) -> None:
        """Answer 408 and hang up gracefully (a lingering close, as nginx does).

        Closing at once, with the client's latest bytes unread, makes the kernel send a
        reset that can overtake the 408. So: the 408, then end of our side; the client's
        bytes are read and dropped until it hangs up, or for ``LINGER_S`` at most.
        """
        self._refused = True
        self.transport.write(_REQUEST_TIMEOUT)
        if not self.transport.can_write_eof():  # TLS: no half-close
            self.transport.close()
            return
        self.transport.write_eof()
        self.flow.resume_reading()
        self._timer = self.loop.call_later(LINGER_S, self.transport.abort)


def slow_client_protocol(header_timeout_s: float) -> type[SlowClientProtocol]:
    """The protocol class to give uvicorn (``http=``), with this header timeout.

    uvicorn builds the protocol itself for each connection, from its ``Config`` only, so the
    timeout travels as a class attribute.
    """
    name = SlowClientProtocol.__name__
    return type(name, (SlowClientProtocol,), {"header_timeout_s": header_timeout_s})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for this service: host, port, log level, protocol and proxies.

    ``X-Forwarded-For`` is read only when ``TTS_FORWARDED_ALLOW_IPS`` names the proxies to
    believe; otherwise the client is the TCP peer, whatever headers it sends.
    """
    proxies = list(settings.forwarded_allow_ips)
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        # The service's own handler (configure_logging) writes uvicorn's lines too.
        "log_config": None,
        # uvicorn's own protocol waits for ever on a client that trickles its request.
        "http": slow_client_protocol(settings.header_timeout_s),
        "proxy_headers": bool(proxies),
        # Never None: uvicorn would then fall back to its default, 127.0.0.1.
        "forwarded_allow_ips": proxies,
    }
