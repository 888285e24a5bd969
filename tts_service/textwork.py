"""The text work a request asks for, as functions a worker process can run.

:class:`~tts_service.synthesis.SpeechService` sends these through its
:class:`~tts_service.isolation.Isolation` (a worker pool when served): each is a
module-level function of picklable arguments. The lexicon travels as a
:class:`LexiconState` — its fingerprint and entries — so a worker always reads with the
lexicon the request was made under, never a stale copy: editors can change the site
lexicon at any time (``PUT /v1/lexicon``), and each worker rebuilds it once per version.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from tts_service.extract import Article, extract_html, extract_plain
from tts_service.text.chunker import Chunk, chunk_document
from tts_service.text.lexicon import Lexicon, Sense
from tts_service.text.model import Document
from tts_service.text.pipeline import normalize

__all__ = ["PRELOAD", "LexiconState", "chunk", "extract", "normalize_text", "warm"]

#: Modules the workers' fork server imports before it forks them (``WorkerPool(preload=)``):
#: this one, warmed, so every worker starts warm.
PRELOAD = ("tts_service.textwork_preload",)

# Lexicons a worker has built, by fingerprint; a handful covers every live version.
_MAX_LEXICONS = 4
_lexicons: OrderedDict[str, Lexicon] = OrderedDict()


@dataclass(frozen=True, slots=True)
class LexiconState:
    """A lexicon as plain data (a ``Lexicon`` holds read-only mappings, which don't pickle)."""

    fingerprint: str
    entries: dict[str, str]
    senses: dict[str, tuple[Sense, ...]]
    site_keys: frozenset[str]

    @classmethod
    def of(cls, lexicon: Lexicon) -> LexiconState:
        """The state of ``lexicon``, to send to a worker."""
        return cls(
            lexicon.fingerprint,
            dict(lexicon.entries),
            dict(lexicon.senses),
            lexicon.site_keys,
        )

    def lexicon(self) -> Lexicon:
        """The lexicon again; built once per fingerprint in each process."""
        found = _lexicons.get(self.fingerprint)
        if found is None:
            found = Lexicon(self.entries, self.senses, site_keys=self.site_keys)
            _lexicons[self.fingerprint] = found
            while len(_lexicons) > _MAX_LEXICONS:
                _lexicons.popitem(last=False)
        else:
            _lexicons.move_to_end(self.fingerprint)
        return found


def extract(text: str | None, html: str | None, selector: str | None, url: str | None) -> Article:
    """The article in scraped ``text``, or in ``html`` (within ``selector`` if given)."""
    if text is not None:
        return extract_plain(text)
    return extract_html(html or "", selector=selector, url=url)


def normalize_text(source: str, lexicon: LexiconState) -> Document:
    """``source`` normalised for speech with ``lexicon``."""
    return normalize(source, lexicon=lexicon.lexicon())


def chunk(document: Document, limit: int) -> tuple[Chunk, ...]:
    """``document`` cut into chunks of at most ``limit`` characters."""
    return chunk_document(document, limit)


def warm() -> None:
    """Load the extractor's and normaliser's data and models (underthesea) now."""
    extract("Ngày 09/7/2021, UBND tỉnh họp.", None, None, None)
    normalize("Ngày 09/7/2021, UBND tỉnh họp lần thứ XVI. TP. Lạng Sơn.")
