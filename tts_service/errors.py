"""Exceptions raised by the service.

Hierarchy::

    TTSError
    ├── InputError                  the caller's text or request cannot be read aloud
    │   ├── EmptyTextError
    │   ├── TextTooLongError
    │   └── UnknownEngineError
    ├── SynthesisError              an engine could not turn a chunk into audio
    │   ├── SynthesisUnavailable    transient: the engine may work again later (HTTP 503)
    │   └── SynthesisRejected       permanent for this text (bad answer, unusable audio)
    ├── AudioFormatError            bytes that should be MP3 are not
    └── CacheError                  the cache could not store or read an entry

Third-party failures (httpx, ctypes, lameenc) are translated into these at the boundary
where they happen, so callers above the engines never see a library's exception.
"""

from __future__ import annotations

__all__ = [
    "AudioFormatError",
    "CacheError",
    "EmptyTextError",
    "InputError",
    "SynthesisError",
    "SynthesisRejected",
    "SynthesisUnavailable",
    "TTSError",
    "TextTooLongError",
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


class UnknownEngineError(InputError):
    """Raised when a request names an engine or voice the service does not have."""


class SynthesisError(TTSError):
    """Raised when an engine fails to synthesise a chunk."""


class SynthesisUnavailable(SynthesisError):
    """Raised when the engine is unreachable or refuses for now (timeouts, 429, 5xx).

    ``retry_after`` is a hint in seconds for clients, when the engine gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SynthesisRejected(SynthesisError):
    """Raised when the engine answered but the answer holds no usable audio."""


class AudioFormatError(TTSError):
    """Raised when bytes that should hold MP3 frames do not."""


class CacheError(TTSError):
    """Raised when the cache cannot write or read an entry (disk full, permissions)."""
