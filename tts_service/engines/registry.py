"""Build the configured engines by name: a dict registry, not an ``if name == …`` chain."""

from __future__ import annotations

from collections.abc import Callable

from tts_service.coordination.runtime import Coordination
from tts_service.engines.base import SpeechEngine
from tts_service.settings import Settings

__all__ = ["ENGINE_FACTORIES", "build_engines"]


def _gtts(settings: Settings, coordination: Coordination) -> SpeechEngine:
    """Google's voice behind a request-rate limit and a circuit breaker.

    The limiter hooks every HTTP attempt (retries spend quota too); waiting for a token is
    bounded by the same ``TTS_GTTS_TIMEOUT_S`` as waiting for Google's answer, beyond which
    the chunk is better read by the fallback voice. Both keep their state where
    ``coordination`` says: in this process, or shared by every process of the deployment.
    """
    from tts_service.coordination.limiter import BudgetLimiter
    from tts_service.engines.breaker import CircuitBreaker, GuardedEngine
    from tts_service.engines.gtts_engine import GTTSEngine

    # The breaker first: it checks the cool-downs, and a bad setting must fail before the
    # engine opens its connection pool.
    breaker = CircuitBreaker(
        failures=settings.breaker_failures,
        cooldown_s=settings.breaker_cooldown_s,
        max_cooldown_s=settings.breaker_max_cooldown_s,
        name=GTTSEngine.name,
        # With a fallback voice behind Google, no listener waits for the probe.
        probe_in_background=settings.engine.index(GTTSEngine.name) < len(settings.engine) - 1,
    )
    breaker.store = coordination.breaker_store(breaker.policy)
    limiter = None
    if settings.gtts_requests_per_minute > 0:
        budget = coordination.rate_budget(
            GTTSEngine.name, settings.gtts_requests_per_minute, burst=settings.gtts_burst
        )
        limiter = BudgetLimiter(budget)
    engine = GTTSEngine(
        base_url=settings.gtts_base_url,
        tld=settings.gtts_tld,
        slow=settings.gtts_slow,
        timeout=settings.gtts_timeout_s,
        retries=settings.gtts_retries,
        backoff_base=settings.gtts_backoff_base_s,
        backoff_max=settings.gtts_backoff_max_s,
        concurrency=settings.gtts_concurrency,
        before_request=limiter.hook(settings.gtts_timeout_s) if limiter is not None else None,
    )
    return GuardedEngine(engine, breaker, limiter=limiter)


def _espeak(settings: Settings, coordination: Coordination) -> SpeechEngine:  # noqa: ARG001
    from tts_service.engines.espeak import EspeakEngine

    return EspeakEngine(rate=settings.espeak_rate_wpm, pitch=settings.espeak_pitch)


ENGINE_FACTORIES: dict[str, Callable[[Settings, Coordination], SpeechEngine]] = {
    "gtts": _gtts,
    "espeak": _espeak,
}


def build_engines(
    settings: Settings, coordination: Coordination | None = None
) -> dict[str, SpeechEngine]:
    """Instantiate every engine named in ``TTS_ENGINE``, in fallback order.

    ``coordination`` holds the shared rate budget and breaker records; in memory (this
    process alone) when not given.
    """
    coordination = coordination if coordination is not None else Coordination.local()
    return {name: ENGINE_FACTORIES[name](settings, coordination) for name in settings.engine}
