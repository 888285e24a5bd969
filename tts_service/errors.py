"""Exceptions raised by the service.

Hierarchy (HTTP status the API answers with)::

    TTSError
    ├── InputError                  the caller's request cannot be read aloud (4xx)
    │   ├── EmptyTextError          nothing to read (422)
    │   ├── TextTooLongError        over TTS_MAX_TEXT_CHARS (413)
    │   ├── UnknownEngineError      no such engine or voice (422)
    │   ├── ExtractError            no article could be read from the page or text (422)
    │   │   └── SelectorError       the CSS selector is invalid or matches nothing (422)
    │   ├── TextTooComplex          processing the text ran past TTS_TEXT_DEADLINE_S (422)
    │   └── TooManyRequests         this client started too many new articles (429)
    ├── SynthesisError              an engine could not turn a chunk into audio
    │   ├── SynthesisUnavailable    transient: the engine may work again later (503)
    │   │   ├── RateLimited         our own gTTS request budget is spent for now
    │   │   └── ServerBusy          too many articles are being read at once (503)
    │   └── SynthesisRejected       permanent for this text (bad answer, unusable audio)
    ├── FetchError                  the page at a URL could not be fetched
    │   ├── ForbiddenTarget         + InputError: scheme, host or address refused (403)
    │   ├── FetchTooLarge           + InputError: the page exceeds the size limit (413)
    │   └── FetchFailed             the site failed: network error, bad status (502)
    │       ├── FetchTimeout        the page took longer than the time limit (504)
    │       └── TooManyRedirects    more redirects than allowed (502)
    ├── AudioFormatError            bytes that should be MP3 are not
    ├── CacheError                  the cache could not store or read an entry (503)
    ├── RegistryError               the article registry could not be read or written (503)
    ├── ArticleNotFound             no article with this id that this API key may see (404)
    ├── ArticleTaken                the id is another API key's article (409)
    ├── NotAllowed                  the API key's role does not allow this (403)
    └── EditConflict                the lexicon changed since the editor read it (412)

``ForbiddenTarget`` and ``FetchTooLarge`` are also ``InputError`` subclasses because the
caller chose the URL; ``FetchFailed`` is not: the caller cannot fix a site that is down.
Third-party failures (httpx, ctypes, lameenc, sqlite3) are translated into these at the
boundary where they happen, so callers above never see a library's exception.
"""

from __future__ import annotations

__all__ = [
    "ArticleNotFound",
    "ArticleTaken",
    "AudioFormatError",
    "CacheError",
    "EditConflict",
    "EmptyTextError",
    "ExtractError",
    "FetchError",
    "FetchFailed",
    "FetchTimeout",
    "FetchTooLarge",
    "ForbiddenTarget",
    "InputError",
    "NotAllowed",
    "RateLimited",
    "RegistryError",
    "SelectorError",
    "ServerBusy",
    "SynthesisError",
    "SynthesisRejected",
    "SynthesisUnavailable",
    "TTSError",
    "TextTooComplex",
    "TextTooLongError",
    "TooManyRedirects",
    "TooManyRequests",
    "UnknownEngineError",
]


class TTSError(Exception):
    """Base class of every error the service raises on purpose."""


class InputError(TTSError):
    """Raised when the request itself cannot be read aloud; maps to a 4xx answer."""


class EmptyTextError(InputError):
    """Raised when nothing speakable is left after cleaning the input."""


class TextTooLongError(InputError):
    """Raised when the input is longer than ``TTS_MAX_TEXT_CHARS``."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"Văn bản dài {length} ký tự, vượt quá giới hạn {limit} ký tự "
            f"(text is {length} characters, the limit is {limit})."
        )
        self.length = length
        self.limit = limit


class TextTooComplex(InputError):
    """Raised when extracting or normalising a text runs past ``TTS_TEXT_DEADLINE_S``.

    The work is stopped (its worker process killed), so one pathological input costs the
    server at most that long; see :mod:`tts_service.isolation`.
    """


class UnknownEngineError(InputError):
    """Raised when a request names an engine or voice the service does not have."""


class SynthesisError(TTSError):
    """Raised when an engine fails to synthesise a chunk."""


class SynthesisUnavailable(SynthesisError):
    """Raised when the engine is unreachable or refuses for now (timeouts, 429, 5xx).

    ``retry_after`` is a hint in seconds for clients, when the engine gave one.
    ``unreachable`` is true when no retry can help for now (the host's name does not
    resolve, the connection is refused, TLS fails): a circuit breaker opens at once.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, unreachable: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable


class SynthesisRejected(SynthesisError):
    """Raised when the engine answered but the answer holds no usable audio."""


class AudioFormatError(TTSError):
    """Raised when bytes that should hold MP3 frames do not."""


class CacheError(TTSError):
    """Raised when the cache cannot write or read an entry (disk full, permissions)."""


class ExtractError(InputError):
    """Raised when no readable article is found in a page or a scraped text."""


class SelectorError(ExtractError):
    """Raised when the caller's CSS selector cannot be parsed or matches no element."""


class FetchError(TTSError):
    """Base class of the errors raised while fetching a page by URL."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class ForbiddenTarget(FetchError, InputError):
    """Raised when a URL is refused before or between requests.

    Reasons: not http(s), credentials in the URL, an IP literal, a host off the allow-list,
    or a name that resolves to a non-public address (loopback, private, link-local such as
    the cloud metadata address ``169.254.169.254``, CGNAT, multicast, ...), checked again at
    every redirect.
    """


class FetchTooLarge(FetchError, InputError):
    """Raised when the page body grows beyond ``max_bytes`` (checked while streaming)."""

    def __init__(self, *, url: str, limit: int) -> None:
        super().__init__(
            f"Trang quá lớn, vượt quá {limit} byte (the page is larger than {limit} bytes).",
            url=url,
        )
        self.limit = limit


class FetchFailed(FetchError):
    """Raised when the site cannot be reached or answers with an unusable response.

    ``status`` is the site's HTTP status when it answered, else ``None``.
    """

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status


class FetchTimeout(FetchFailed):
    """Raised when connecting, waiting or downloading exceeds the total time limit."""


class TooManyRedirects(FetchFailed):
    """Raised when a page redirects more times than ``max_redirects`` allows."""


class RateLimited(SynthesisUnavailable):
    """Raised when a token would come later than the caller agreed to wait.

    A subclass of :class:`~tts_service.errors.SynthesisUnavailable` so the fallback chain
    treats it like any transient failure, yet distinct so the circuit breaker can tell our
    own throttling apart from Google failing (it must not open the breaker).
    """


class TooManyRequests(InputError):
    """Raised when a client asks for more *new* audio than its per-minute budget allows.

    Only requests that would start a synthesis count; ``retry_after`` is the number of
    seconds until the client's next token (sent as ``Retry-After``).
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerBusy(SynthesisUnavailable):
    """Raised when ``TTS_MAX_CONCURRENT_JOBS`` articles are already being read.

    A :class:`SynthesisUnavailable` so it answers 503 with ``Retry-After`` like any
    transient outage: the listener should simply try again shortly.
    """


class RegistryError(TTSError):
    """Raised when the article registry's database cannot be read or written."""


class ArticleNotFound(TTSError):
    """Raised when no registered article has the requested id, or none the key may see.

    Another key's article is "not found" too, never "forbidden": a key learns nothing
    about what other keys registered.
    """


class ArticleTaken(TTSError):
    """Raised when a key registers an id that another key's article already has.

    Registering cannot be answered "not found": the caller would believe it created the
    article. The id's existence is no secret (the button's ``/audio`` answers for it
    without a key); what the other key registered stays hidden.
    """


class NotAllowed(TTSError):
    """Raised when a key's role does not allow an operation, e.g. a CMS key changing the
    site lexicon, which only admin keys may do."""


class EditConflict(TTSError):
    """Raised when an edit names a version (``If-Match``) that is no longer current.

    Two editors changing the lexicon at once must not silently undo each other's entries.
    """
