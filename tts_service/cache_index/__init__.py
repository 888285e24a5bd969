"""The audio cache's index: which chunks and articles are stored, their LRU order, pins,
shortcuts and byte totals, on SQLite or PostgreSQL (:class:`AudioIndex`)."""

from tts_service.cache_index.index import COMPONENT, AudioIndex

__all__ = ["COMPONENT", "AudioIndex"]
