"""The registry's moving parts wired together: store, webhooks, registry and workers."""

from __future__ import annotations

from tts_service.registry.articles import ArticleRegistry
from tts_service.registry.store import ArticleStore
from tts_service.registry.webhooks import Webhooks
from tts_service.registry.worker import WorkerPool
from tts_service.synthesis import SpeechService

__all__ = ["RegistryRuntime"]


class RegistryRuntime:
    """Opens the registry beside a speech service; ``start()`` runs its background threads."""

    def __init__(self, service: SpeechService, *, workers: int | None = None) -> None:
        settings = service.settings
        self.store = ArticleStore.open(settings.registry_file)
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
