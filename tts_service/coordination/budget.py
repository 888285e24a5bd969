"""The token bucket's arithmetic, shared by the local and the database budgets.

Kept in one place so both implement exactly the semantics described in
:mod:`tts_service.coordination.limiter`: refill at ``rate`` up to ``burst``; a listener
reserves (the bucket may go below zero) when its token is due within its wait; background
work takes only what is above the reserve.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BucketConfig", "refilled"]


@dataclass(frozen=True, slots=True)
class BucketConfig:
    """``per_minute`` tokens a minute, ``burst`` at once, ``reserve`` kept for listeners.

    ``burst`` defaults to one second's worth (at least 1) and ``reserve`` to a quarter of
    the burst, at most ``burst - 1``, as the engine chain has always had them.
    """

    per_minute: float
    burst: int
    reserve: int

    @classmethod
    def of(
        cls, per_minute: float, *, burst: int | None = None, reserve: int | None = None
    ) -> BucketConfig:
        """The configuration with the defaults filled in; ``ValueError`` when unusable."""
        if per_minute <= 0:
            raise ValueError(f"per_minute must be > 0, got {per_minute}")
        size = burst if burst is not None else max(1, int(per_minute / 60.0))
        if size < 1:
            raise ValueError(f"burst must be at least 1, got {size}")
        wanted = reserve if reserve is not None else size // 4
        return cls(per_minute, size, max(0, min(wanted, size - 1)))

    @property
    def rate(self) -> float:
        """Tokens a second."""
        return self.per_minute / 60.0


def refilled(tokens: float, updated_at: float, now: float, config: BucketConfig) -> float:
    """The tokens in the bucket at ``now``; a clock behind ``updated_at`` adds none."""
    return min(float(config.burst), tokens + max(0.0, now - updated_at) * config.rate)
