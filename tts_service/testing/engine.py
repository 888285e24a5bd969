"""A speech engine whose audio comes from a function: for tests and benches.

It ships with the package, as ``httpx.MockTransport`` ships with httpx, but only here in
:mod:`tts_service.testing`: no production code path imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tts_service.audio.format import HOUSE_FORMAT, AudioFormat

__all__ = ["FakeEngine"]


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
