"""What uvicorn's worker processes import by name under ``tts-service serve --workers N``.

uvicorn starts each worker with ``spawn`` and gives it its configuration by pickling, so
the HTTP protocol (a class made for the configured header timeout) must be found by an
import path instead: this module builds it in each worker, from the same settings.
"""

from __future__ import annotations

from tts_service.api.server import SlowClientProtocol, slow_client_protocol
from tts_service.settings import get_settings

__all__ = ["HTTP_PROTOCOL"]

#: The protocol with this process's ``TTS_HEADER_TIMEOUT_S``.
HTTP_PROTOCOL: type[SlowClientProtocol] = slow_client_protocol(get_settings().header_timeout_s)
