"""The HTTP API; ``tts_service.api.main:app`` is the ASGI application."""

from __future__ import annotations

__all__: list[str] = []
