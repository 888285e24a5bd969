"""Build the configured engines by name: a dict registry, not an ``if name == …`` chain."""

from __future__ import annotations

from collections.abc import Callable

from tts_service.engines.base import SpeechEngine
from tts_service.settings import Settings

__all__ = ["ENGINE_FACTORIES", "build_engines"]


def _gtts(settings: Settings) -> SpeechEngine:
    from tts_service.engines.gtts_engine import GTTSEngine

    return GTTSEngine(
        base_url=settings.gtts_base_url,
        tld=settings.gtts_tld,
        slow=settings.gtts_slow,
        timeout=settings.gtts_timeout_s,
        retries=settings.gtts_retries,
        backoff_base=settings.gtts_backoff_base_s,
        backoff_max=settings.gtts_backoff_max_s,
        concurrency=settings.gtts_concurrency,
    )


def _espeak(settings: Settings) -> SpeechEngine:
    from tts_service.engines.espeak import EspeakEngine

    return EspeakEngine(rate=settings.espeak_rate_wpm, pitch=settings.espeak_pitch)


ENGINE_FACTORIES: dict[str, Callable[[Settings], SpeechEngine]] = {
    "gtts": _gtts,
    "espeak": _espeak,
}


def build_engines(settings: Settings) -> dict[str, SpeechEngine]:
    """Instantiate every engine named in ``TTS_ENGINE``, in fallback order."""
    return {name: ENGINE_FACTORIES[name](settings) for name in settings.engine}
