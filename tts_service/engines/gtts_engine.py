"""Google Translate's voice, reached the way gTTS reaches it, over one pooled httpx client.

gTTS knows how to *write* a request to Google's ``batchexecute`` endpoint; it is less careful
about *sending* one (a new ``requests.Session`` per part, no timeout, ``verify=False``, parts
fetched one after another). So the work is split:

* **Planning** (:meth:`GTTSEngine.request_body`): gTTS builds the form body, with its English
  pre-processors and splitter switched off, because our chunker already cut the Vietnamese
  text into pieces of at most 100 characters.
* **Sending** (:meth:`GTTSEngine.synthesize`): one shared :class:`httpx.Client` with
  keep-alive, a pool sized to ``concurrency``, TLS verification on and a timeout on every
  request; retries with exponential backoff and full jitter.

Failure policy, attempt by attempt:

=====================================  ==========  =========================================
Google's answer                        retried?    when retries run out
=====================================  ==========  =========================================
timeout, reset connection              yes         :class:`SynthesisUnavailable`
unknown host, refused, TLS failure     no          :class:`SynthesisUnavailable`, unreachable
429, 408, 5xx (``Retry-After`` kept)   yes         :class:`SynthesisUnavailable`
200, body or MP3 cut short, bad b64    yes         :class:`SynthesisUnavailable`
200, no audio, not MP3, not 24k mono   yes         :class:`SynthesisRejected`
400, 413, 414, 422                     no          :class:`SynthesisRejected` (this text)
any other status (403, 404, 3xx…)      no          :class:`SynthesisUnavailable`
=====================================  ==========  =========================================

A malformed 200 is retried because Google's odd answers are usually passing hiccups; only
when the *last* attempt was a well-formed answer without audio do we conclude that retrying
won't help for this text and reject it. This is the only module in the package that imports
gtts.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx
from gtts import gTTS

from tts_service.audio import mp3
from tts_service.audio.format import HOUSE_FORMAT, AudioFormat
from tts_service.backoff import backoff_s
from tts_service.errors import (
    AudioFormatError,
    SynthesisRejected,
    SynthesisUnavailable,
    UnknownEngineError,
)

__all__ = ["BATCHEXECUTE_PATH", "GTTSEngine"]

logger = logging.getLogger(__name__)

BATCHEXECUTE_PATH = "/_/TranslateWebserverUi/data/batchexecute"
"""Where gTTS posts its requests, relative to the Google Translate host."""

_RPC_ID = gTTS.GOOGLE_TTS_RPC
# gTTS's own pattern for the audio in a jQ1olc line, used when the line is not plain JSON.
_GTTS_AUDIO_PATTERN = re.compile(r'jQ1olc","\[\\"(.*)\\"]')
# Statuses that mean "this request, as written, will never work": the text is the problem.
_REJECTING_STATUSES = frozenset({400, 413, 414, 422})


class _AttemptFailed(Exception):
    """One attempt failed in a way that may pass; carries what the retry loop needs."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, no_audio: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        # True when Google answered cleanly but without audio: if the last attempt ends
        # like this, the text is rejected rather than the engine declared unavailable.
        self.no_audio = no_audio


def _unreachable_cause(exc: BaseException) -> str | None:
    """Why ``exc`` means Google cannot be reached for now, or ``None`` if a retry may help.

    A name that does not resolve (an offline intranet: "Name or service not known"), a
    refused connection and a failed TLS handshake give the same answer a second later, so
    retrying only makes the listener wait for the fallback voice. httpx wraps the OS error
    twice (httpx → httpcore → OSError); follow the chain down to it.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(current, ConnectionRefusedError):
            return "the connection is refused"
        if isinstance(current, ssl.SSLError):
            return "the TLS handshake failed"
        current = current.__cause__ or current.__context__
    return None


def _keep_whole(text: str) -> list[str]:
    """gTTS tokenizer that returns the text as one token: our chunker already split it."""
    return [text]


def _parse_retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header: delay-seconds or an HTTP date; ``None`` if unreadable.

    Fractional seconds are accepted although RFC 9110 only allows integers, so tests can
    ask for short waits.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    # "nan" and "inf" parse as floats; neither is a usable delay.
    if seconds != seconds or seconds == float("inf"):
        return None
    return max(0.0, seconds)


def _decode_audio(encoded: str) -> bytes:
    """Decode Google's base64 audio and check, frame by frame, that it is house-format MP3.

    A stream that ends inside a frame was cut in transit (worth retrying); bytes that are
    not MP3, or MP3 in another format, would break byte-for-byte concatenation with the
    rest of the article, and asking again is unlikely to change them.
    """
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        # ValueError: non-ASCII characters, which b64decode refuses before decoding.
        raise _AttemptFailed("answer holds corrupt base64 audio") from exc
    try:
        stream = mp3.parse(data)
    except AudioFormatError as exc:
        raise _AttemptFailed(f"answer's audio is not MP3 ({exc})", no_audio=True) from exc
    if stream.truncated_bytes:
        raise _AttemptFailed("answer's audio is cut short inside a frame")
    if not stream.is_format(HOUSE_FORMAT):
        # (Not stream.format in the message: it raises when frames disagree, e.g. VBR.)
        raise _AttemptFailed("answer's audio is not in the house format", no_audio=True)
    return data


def _extract_audio(payload: str) -> bytes:
    """Return the MP3 bytes in a ``batchexecute`` answer, or raise :class:`_AttemptFailed`.

    The answer is a ``)]}'`` guard line followed by length-prefixed JSON lines; the one we
    want is ``[["wrb.fr","jQ1olc","[\\"<base64 mp3>\\"]",…]]``, whose third item is itself
    JSON. A line that does not parse means the body was cut short (transient); a line that
    parses but holds no base64 string means Google answered without audio.
    """
    for line in payload.splitlines():
        if _RPC_ID not in line:
            continue
        try:
            envelope = json.loads(line)
        except ValueError as exc:
            # Not JSON on its own: fall back to gTTS's looser pattern, which is what has kept
            # working against the real endpoint; a cut-off line matches neither.
            found = _GTTS_AUDIO_PATTERN.search(line)
            if found is None:
                raise _AttemptFailed("answer cut short (unparseable jQ1olc line)") from exc
            return _decode_audio(found.group(1))
        for entry in envelope if isinstance(envelope, list) else []:
            if not (isinstance(entry, list) and entry[:2] == ["wrb.fr", _RPC_ID]):
                continue
            inner = entry[2] if len(entry) > 2 else None
            try:
                audio = json.loads(inner) if isinstance(inner, str) else None
            except ValueError as exc:
                raise _AttemptFailed("answer cut short (unparseable audio payload)") from exc
            if not (isinstance(audio, list) and audio and isinstance(audio[0], str)):
                raise _AttemptFailed("answer holds no audio", no_audio=True)
            return _decode_audio(audio[0])
        raise _AttemptFailed("answer holds no audio", no_audio=True)
    # No jQ1olc line at all: an HTML page or an empty body rather than an RPC answer.
    raise _AttemptFailed("answer is not a jQ1olc reply")


class GTTSEngine:
    """Google Translate's Vietnamese voice as a :class:`~tts_service.engines.base.SpeechEngine`.

    Thread-safe: the orchestrator calls :meth:`synthesize` from up to ``concurrency``
    threads at once, all sharing one connection pool. Call :meth:`close` (or use it as a
    context manager) to release the pool.

    Args:
        base_url: scheme and host requests go to; tests point it at a loopback fake.
        lang: the language Google reads in; also the engine's ``voice``.
        tld: Google's top-level domain, kept in ``sound_params`` (it chooses the accent);
            ``base_url`` alone decides where requests go.
        slow: ask Google for its slow reading.
        timeout: seconds allowed for each of connecting, writing and reading one attempt.
        retries: extra attempts after the first one fails transiently.
        backoff_base: the first backoff ceiling in seconds; it doubles with each attempt.
        backoff_max: the largest wait between attempts, ``Retry-After`` included.
        concurrency: size of the connection pool.
        client: a ready client to use instead (not closed by :meth:`close`).
        transport: an httpx transport for the engine's own client, e.g. ``MockTransport``.
        before_request: called before every HTTP attempt, retries included, e.g. a rate
            limiter's ``acquire``; a :class:`SynthesisUnavailable` it raises ends the call
            at once, unretried.
        on_status: called with the status of every HTTP answer received, retries included
            (metrics count Google's 429s with it); it runs on the engine's threads and must
            not raise. May also be set after construction, while it is ``None``.
    """

    name = "gtts"
    max_chars = gTTS.GOOGLE_TTS_MAX_CHARS
    audio_format: AudioFormat = HOUSE_FORMAT

    def __init__(
        self,
        *,
        base_url: str = "https://translate.google.com",
        lang: str = "vi",
        tld: str = "com",
        slow: bool = False,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        concurrency: int = 8,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        before_request: Callable[[], None] | None = None,
        on_status: Callable[[int], None] | None = None,
    ) -> None:
        if timeout <= 0 or retries < 0 or backoff_base < 0 or backoff_max < 0:
            raise ValueError("timeout must be > 0; retries and backoff must be >= 0")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        url = httpx.URL(base_url.rstrip("/") + BATCHEXECUTE_PATH)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
        self.url = url
        self.lang = lang
        self.voice = lang
        self.tld = tld
        self.slow = slow
        self.timeout = timeout
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.concurrency = concurrency
        self.before_request = before_request
        self.on_status = on_status
        self._owns_client = client is None
        self._client = client if client is not None else self._build_client(transport)
        self._closed = threading.Event()
        # Jitter needs no cryptographic strength; a private instance keeps it thread-local
        # in effect (Random's methods are atomic under the GIL).
        self._rng = random.Random()

    def _build_client(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        """The shared client: pool sized to ``concurrency``, TLS verified, gTTS's headers."""
        return httpx.Client(
            # No pool timeout: waiting for a free connection is queueing behind our own
            # requests, each of which is bounded by the other three timeouts.
            timeout=httpx.Timeout(self.timeout, pool=None),
            limits=httpx.Limits(
                max_connections=self.concurrency,
                max_keepalive_connections=self.concurrency,
            ),
            headers=dict(gTTS.GOOGLE_TTS_HEADERS),
            verify=True,
            follow_redirects=False,
            transport=transport,
        )

    @property
    def sound_params(self) -> Mapping[str, str]:
        """``lang``, ``tld`` and ``slow``: the settings that change what Google says.

        ``base_url`` is left out on purpose: it says *where* requests go (Google, a proxy,
        a loopback fake in tests), not how the voice sounds, and caches are per deployment,
        so a mirror of the same host must keep hitting the same cached audio.
        """
        return {"lang": self.lang, "tld": self.tld, "slow": "true" if self.slow else "false"}

    def request_body(self, text: str) -> str:
        """Return the form body gTTS would post for ``text``, without sending it.

        Raises:
            SynthesisRejected: ``text`` is longer than ``max_chars`` or has nothing to say
                (gTTS drops pieces made only of punctuation and spaces).
        """
        length = len(text.strip())
        if length > self.max_chars:
            raise SynthesisRejected(
                f"chunk has {length} characters; Google reads at most {self.max_chars}"
            )
        try:
            tts = gTTS(
                text,
                lang=self.lang,
                tld=self.tld,
                slow=self.slow,
                lang_check=False,
                pre_processor_funcs=[],
                tokenizer_func=_keep_whole,
            )
            bodies = tts.get_bodies()
        except AssertionError as exc:
            # gTTS signals "nothing to speak" with assert; that is this text's fault.
            raise SynthesisRejected(f"nothing speakable in chunk: {exc}") from exc
        if not isinstance(bodies, list) or len(bodies) != 1 or not isinstance(bodies[0], str):
            count = len(bodies) if isinstance(bodies, list) else "no"
            raise SynthesisRejected(f"gTTS planned {count} requests for one chunk; expected 1")
        return bodies[0]

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:
        """Return Google's MP3 (in ``HOUSE_FORMAT``) for one chunk; blocking, retried.

        Raises:
            UnknownEngineError: ``voice`` is not this engine's language.
            SynthesisRejected: the text cannot be sent, or Google keeps answering
                without audio.
            SynthesisUnavailable: Google stayed unreachable, slow or failing through every
                attempt; ``retry_after`` carries Google's hint or ``backoff_max``.
        """
        if voice is not None and voice != self.voice:
            raise UnknownEngineError(f"gTTS engine reads {self.voice!r}, not {voice!r}")
        body = self.request_body(text).encode("ascii")
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                return self._attempt(body)
            except _AttemptFailed as failure:
                if attempt + 1 == attempts:
                    raise self._give_up(failure, attempts) from failure
                delay = self._backoff(attempt, failure.retry_after)
                logger.warning(
                    "gTTS attempt %d/%d failed (%s); retrying in %.2fs",
                    attempt + 1,
                    attempts,
                    failure.reason,
                    delay,
                )
                # Waiting on the close event rather than sleeping lets close() cut it short.
                if self._closed.wait(delay):
                    raise SynthesisUnavailable("gTTS engine was closed") from failure
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _attempt(self, body: bytes) -> bytes:
        """Send one request and return its audio; :class:`_AttemptFailed` if it may pass."""
        if self._closed.is_set():
            raise SynthesisUnavailable("gTTS engine is closed")
        if self.before_request is not None:
            self.before_request()
        logger.debug("POST %s (%d bytes)", self.url, len(body))
        try:
            response = self._client.post(self.url, content=body)
        except httpx.TimeoutException as exc:
            raise _AttemptFailed(f"timed out: {type(exc).__name__}") from exc
        except httpx.RequestError as exc:
            cause = _unreachable_cause(exc) if isinstance(exc, httpx.ConnectError) else None
            if cause is not None:
                raise SynthesisUnavailable(
                    f"Google cannot be reached: {cause} ({type(exc).__name__}: {exc})",
                    retry_after=self.backoff_max,
                    unreachable=True,
                ) from exc
            raise _AttemptFailed(f"request failed: {type(exc).__name__}: {exc}") from exc
        except RuntimeError as exc:
            # httpx raises RuntimeError when the client was closed under a running request.
            if self._closed.is_set():
                raise SynthesisUnavailable("gTTS engine was closed") from exc
            raise
        status = response.status_code
        if self.on_status is not None:
            self.on_status(status)
        if status == 200:
            return _extract_audio(response.text)
        retry_after = _parse_retry_after(response.headers.get("Retry-After"))
        if status in (408, 429) or status >= 500:
            raise _AttemptFailed(f"HTTP {status}", retry_after=retry_after)
        if status in _REJECTING_STATUSES:
            raise SynthesisRejected(f"Google rejected the chunk: HTTP {status}")
        # 403 (blocked or API change), 404 (bad host), redirects: not this text's fault,
        # and asking again at once will not change the answer.
        raise SynthesisUnavailable(
            f"Google answered HTTP {status}; check TTS_GTTS_BASE_URL and access",
            retry_after=retry_after,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``.

        Google's ``Retry-After`` wins when given, capped by ``backoff_max``; otherwise
        "full jitter" below ``backoff_base * 2**attempt``, never above ``backoff_max``
        (:func:`tts_service.backoff.backoff_s`), so threads that failed together do not
        come back together.
        """
        return backoff_s(
            attempt + 1,
            base_s=self.backoff_base,
            max_s=self.backoff_max,
            retry_after=retry_after,
            rng=self._rng,
        )

    def _give_up(self, failure: _AttemptFailed, attempts: int) -> Exception:
        """The error to raise once every attempt failed, chosen by the last failure."""
        message = f"gTTS failed after {attempts} attempt(s): {failure.reason}"
        if failure.no_audio:
            return SynthesisRejected(message)
        retry_after = failure.retry_after if failure.retry_after is not None else self.backoff_max
        return SynthesisUnavailable(message, retry_after=retry_after)

    def close(self) -> None:
        """Stop pending retries and close the connection pool (if the engine made it)."""
        self._closed.set()
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> GTTSEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
