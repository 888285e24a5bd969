"""The editors' console: web pages where editors see, hear and fix what is read.

Server-rendered Vietnamese pages at ``/console/`` (docs/console.md), over the same
registry, lexicon and normaliser as the editors' API, signed in with an editor's API key.
"""

from tts_service.console.routes import router

__all__ = ["router"]
