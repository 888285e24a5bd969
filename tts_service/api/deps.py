"""FastAPI dependencies as ``Annotated`` aliases, in the full-stack template's style."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tts_service.registry.articles import ArticleRegistry
from tts_service.settings import Settings, get_settings
from tts_service.synthesis import SpeechService

__all__ = ["RegistryDep", "ServiceDep", "SettingsDep", "get_registry", "get_service"]


def get_service(request: Request) -> SpeechService:
    """The service built at start-up (see ``api.main.lifespan``)."""
    service: SpeechService = request.app.state.service
    return service


ServiceDep = Annotated[SpeechService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_registry(request: Request) -> ArticleRegistry:
    """The article registry built at start-up, over the same service."""
    registry: ArticleRegistry = request.app.state.registry
    return registry


RegistryDep = Annotated[ArticleRegistry, Depends(get_registry)]
