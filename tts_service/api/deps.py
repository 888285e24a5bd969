"""FastAPI dependencies as ``Annotated`` aliases, in the full-stack template's style."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tts_service.api.responders import AudioResponder
from tts_service.registry.articles import ArticleRegistry
from tts_service.settings import Settings, get_settings
from tts_service.synthesis import SpeechService

__all__ = [
    "AudioDep",
    "RegistryDep",
    "ServiceDep",
    "SettingsDep",
    "get_audio_responder",
    "get_registry",
    "get_service",
]


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


def get_audio_responder(request: Request) -> AudioResponder:
    """How complete audio is delivered: built once per app, over the service's store."""
    service: SpeechService = request.app.state.service
    responder: AudioResponder | None = getattr(request.app.state, "audio_responder", None)
    if responder is None or responder.store is not service.cache.store:
        responder = AudioResponder.from_settings(service.settings, service.cache.store)
        request.app.state.audio_responder = responder
    return responder


AudioDep = Annotated[AudioResponder, Depends(get_audio_responder)]
