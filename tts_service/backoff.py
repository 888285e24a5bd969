"""How long to wait before trying again: the one backoff rule of the service.

Google's requests (``engines/gtts_engine.py``), registered articles' jobs
(``registry/worker.py``) and webhook calls (``registry/webhooks.py``) all wait the same
way after a failure: exponential, capped, with "full jitter" — a uniform draw below the
capped ceiling, so what failed together (every chunk of an article when Google went down,
every delivery to a CMS that was down) does not come back together. The cap is a promise:
the wait is never longer than ``max_s``, jitter included, and a ``Retry-After`` the other
side sent is capped alike.
"""

from __future__ import annotations

import random

__all__ = ["backoff_s"]

# 2**64 times any sane base is past every cap; a larger exponent only risks overflow
# (``2**1100 * 0.5`` raises) for a job or delivery tried absurdly often.
_MAX_DOUBLINGS = 64


def backoff_s(
    failures: int,
    *,
    base_s: float,
    max_s: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after ``failures`` failed tries (1 after the first one); at most ``max_s``.

    ``retry_after`` — the other side's own hint (an HTTP ``Retry-After``) — wins when
    given, capped by ``max_s``. Otherwise the wait is drawn uniformly from
    ``[0, min(max_s, base_s * 2**(failures - 1))]``: with base 10 s and cap 900 s, the
    first retry waits up to 10 s, the fifth up to 160 s, the eighth and later up to 900 s.
    ``rng`` is the draw's source (the ``random`` module's when ``None``).
    """
    if failures < 1 or base_s < 0 or max_s < 0:
        raise ValueError("failures must be >= 1, base_s and max_s >= 0")
    if retry_after is not None:
        return min(max(0.0, retry_after), max_s)
    ceiling = min(max_s, base_s * 2.0 ** min(failures - 1, _MAX_DOUBLINGS))
    uniform = rng.uniform if rng is not None else random.uniform
    # uniform(a, b) may return b itself (floating-point rounding of a + (b - a) * r):
    # the min keeps the promise exactly.
    return min(ceiling, uniform(0.0, ceiling))
