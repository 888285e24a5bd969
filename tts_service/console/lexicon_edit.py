"""Lexicon changes made in the console: one entry added, changed or removed at a time.

Before an editor saves, :func:`dry_run` reads every registered article the change could
touch with the proposed lexicon and lists those whose spoken text would differ: exactly
the articles the registry re-queues when the change is saved (the same comparison, made
without writing). :func:`try_sentence` reads one sentence with the current and the
proposed lexicon, so the editor hears — reads — the entry at work before saving it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from tts_service import textwork
from tts_service.errors import InputError
from tts_service.registry.articles import ArticleRegistry
from tts_service.text.lexicon import Lexicon
from tts_service.text.model import Document

__all__ = ["Change", "dry_run", "try_sentence"]


@dataclass(frozen=True, slots=True)
class Change:
    """An edit of one entry: ``old`` is the entry it replaces (``None``: a new one),
    ``written``/``reading`` the new entry (``reading`` ``None``: remove ``old``)."""

    old: str | None
    written: str
    reading: str | None

    def apply(self, entries: Mapping[str, str]) -> dict[str, str]:
        """``entries`` with this change made."""
        result = dict(entries)
        if self.old is not None:
            result.pop(self.old, None)
        if self.reading is not None:
            result[self.written] = self.reading
        return result

    @classmethod
    def of(cls, *, action: str, old: str, written: str, reading: str) -> Change:
        """The change a console form asks for (``action``: add, edit or remove)."""
        old = unicodedata.normalize("NFC", old).strip()
        written = unicodedata.normalize("NFC", written).strip()
        reading = unicodedata.normalize("NFC", reading).strip()
        if action == "remove":
            return cls(old or written, old or written, None)
        return cls(old or None if action == "edit" else None, written, reading)


def _normalize(registry: ArticleRegistry, text: str, lexicon: Lexicon) -> Document:
    # The service's text workers, with the proposed lexicon travelling with the text.
    service = registry.service
    return service.isolation.call(textwork.normalize_text, text, textwork.LexiconState.of(lexicon))


def dry_run(registry: ArticleRegistry, proposed: Mapping[str, str]) -> list[str]:
    """Ids of the registered articles ``proposed`` would make read differently."""
    current = registry.store.lexicon() or {}
    changed = {k for k in set(current) | set(proposed) if current.get(k) != proposed.get(k)}
    if not changed:
        return []
    lexicon = Lexicon.with_site(dict(proposed))
    affected = []
    for article_id, _version, text in registry.store.texts():
        # As the registry does: an entry can only change an article that contains it.
        if text is None or not any(written in text for written in changed):
            continue
        record = registry.store.get(article_id)
        if record is None or record.sentences is None:
            continue
        try:
            document = _normalize(registry, text, lexicon)
        except InputError:
            continue
        if [s.spoken for s in document.sentences] != [str(s[3]) for s in record.sentences]:
            affected.append(article_id)
    return affected


def try_sentence(
    registry: ArticleRegistry, sentence: str, proposed: Mapping[str, str]
) -> tuple[str, str]:
    """``sentence`` as read with the current lexicon and with ``proposed``."""
    current = Lexicon.with_site(registry.store.lexicon() or {})
    before = _normalize(registry, sentence, current)
    after = _normalize(registry, sentence, Lexicon.with_site(dict(proposed)))
    return before.spoken_text, after.spoken_text
