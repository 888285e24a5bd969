"""The registry's moving parts wired together: store, webhooks, registry and workers."""

from __future__ import annotations

from tts_service.registry.articles import ArticleRegistry
from tts_service.registry.store import ArticleStore
from tts_service.registry.webhooks import Webhooks
from tts_service.registry.worker import WorkerPool
from tts_service.settings import Settings
from tts_service.synthesis import SpeechService
from tts_service.text.lexicon import Lexicon

__all__ = ["RegistryRuntime", "site_lexicon"]


def site_lexicon(settings: Settings) -> Lexicon:
    """The site lexicon listeners hear: the one editors manage through ``PUT /v1/lexicon``
    once there is one, else the ``TTS_SITE_LEXICON`` file that seeds it.

    For the command line (``tts-service normalize``, ``synth``), so an editor checking how
    "UBND" will be read sees what the service says. A missing registry file is not created
    (a ``TTS_DATABASE_URL`` database is opened, and migrated, like the service does).
    """
    if settings.database_url or settings.registry_file.exists():
        store = ArticleStore.open(settings.registry_database)
        try:
            managed = store.lexicon()
        finally:
            store.close()
        if managed is not None:
            return Lexicon.with_site(managed)
    return Lexicon.load(settings.site_lexicon)


class RegistryRuntime:
    """Opens the registry beside a speech service; ``start()`` runs its background threads."""

    def __init__(self, service: SpeechService, *, workers: int | None = None) -> None:
        settings = service.settings
        self.store = ArticleStore.open(settings.registry_database)
        self.webhooks = Webhooks.from_settings(self.store.db, settings)
        self.registry = ArticleRegistry(service, self.store, notify=self.webhooks.enqueue)
        self.pool = WorkerPool(self.registry, size=settings.workers if workers is None else workers)
        self.registry.queued = self.pool.wake

    def start(self) -> None:
        """Start delivering webhooks and running jobs (resuming those a crash left)."""
        self.webhooks.start()
        self.pool.start()

    def close(self) -> None:
        """Stop the workers and the webhook sender, then close the database."""
        self.pool.close()
        self.webhooks.close()
        self.store.close()
