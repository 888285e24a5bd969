"""Text to speakable Vietnamese: clean-up, sentences, rules, chunks.

The pipeline itself is ``tts_service.text.pipeline.normalize``; it is not re-exported here
so that importing the data model does not load underthesea.
"""

from __future__ import annotations

from tts_service.text.model import Document, Rewrite, Sentence

__all__ = ["Document", "Rewrite", "Sentence"]
