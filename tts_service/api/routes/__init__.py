"""One router per concern; ``api.main`` includes them all."""

from __future__ import annotations

from tts_service.api.routes import health, normalize, player, speech

__all__ = ["health", "normalize", "player", "speech"]
