"""The small interface every speech engine implements, and a fake that ships with it.

Like httpx's ``BaseTransport.handle_request()`` / ``MockTransport(handler)``, one method does
the work; unlike httpx we use a :class:`typing.Protocol` so fakes need no inheritance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from tts_service.audio.format import HOUSE_FORMAT, AudioFormat

__all__ = ["FakeEngine", "SpeechEngine", "is_available"]


@runtime_checkable
class SpeechEngine(Protocol):
    """Turns one chunk of spoken Vietnamese into MP3 bytes.

    ``sound_params`` lists every setting that changes the sound (voice, speed, host…);
    cache keys are built from it, so two engines that sound different never share audio.
    Implementations raise :class:`~tts_service.errors.SynthesisUnavailable` for transient
    failures and :class:`~tts_service.errors.SynthesisRejected` for permanent ones.
    """

    name: str
    voice: str
    max_chars: int
    audio_format: AudioFormat
    # How many synthesize() calls may run at once (threads of the service's pool).
    concurrency: int

    @property
    def sound_params(self) -> Mapping[str, str]:
        """Settings that change the audio, for cache keys."""
        ...

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:
        """Return MP3 bytes (in ``audio_format``) for ``text``; blocking."""
        ...


def is_available(engine: SpeechEngine) -> bool:
    """Whether a call to ``engine`` now would reach it rather than fail fast.

    Engines behind a circuit breaker say so with an ``available`` property; any other
    engine is always available.
    """
    return bool(getattr(engine, "available", True))


class FakeEngine:
    """An engine whose audio comes from ``handler(text) -> bytes``; for tests and benches.

    ``calls`` records every text it was asked for, in order, so tests can count them.
    """

    def __init__(
        self,
        handler: Callable[[str], bytes],
        *,
        name: str = "fake",
        voice: str = "vi",
        max_chars: int = 100,
        audio_format: AudioFormat = HOUSE_FORMAT,
        concurrency: int = 1,
    ) -> None:
        self._handler = handler
        self.concurrency = concurrency
        self.name = name
        self.voice = voice
        self.max_chars = max_chars
        self.audio_format = audio_format
        self.calls: list[str] = []

    @property
    def sound_params(self) -> Mapping[str, str]:
        """The fake's name and voice: enough to keep fakes' audio apart in a cache."""
        return {"voice": self.voice}

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:  # noqa: ARG002
        """Record the call and return the handler's bytes."""
        self.calls.append(text)
        return self._handler(text)
