"""FastAPI dependencies as ``Annotated`` aliases, in the full-stack template's style."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tts_service.settings import Settings, get_settings
from tts_service.synthesis import SpeechService

__all__ = ["ServiceDep", "SettingsDep", "get_service"]


def get_service(request: Request) -> SpeechService:
    """The service built at start-up (see ``api.main.lifespan``)."""
    service: SpeechService = request.app.state.service
    return service


ServiceDep = Annotated[SpeechService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
