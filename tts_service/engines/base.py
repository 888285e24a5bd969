"""The small interface every speech engine implements.

Like httpx's ``BaseTransport.handle_request()``, one method does the work; unlike httpx we
use a :class:`typing.Protocol` so fakes need no inheritance. The fake that ships with the
package, as ``MockTransport(handler)`` ships with httpx, is
:class:`tts_service.testing.FakeEngine`: out of the production surface.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from tts_service.audio.format import AudioFormat

__all__ = ["SpeechEngine", "is_available"]


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
