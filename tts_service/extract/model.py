"""The extractor's output: an article split into the parts a listener hears in order."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Article"]


@dataclass(frozen=True, slots=True)
class Article:
    """An article as it will be read aloud.

    ``paragraphs`` is the body: paragraphs, sub-headings, image captions, list items and
    table rows ("Chỉ tiêu: Vốn đầu tư; Kế hoạch: 1.200 tỷ đồng"), each one line.
    ``byline`` (author, source: "Vy Quản, Sở Kế hoạch và Đầu tư") is read last.
    """

    title: str | None
    lead: str | None
    paragraphs: tuple[str, ...]
    byline: str | None = None

    @property
    def text(self) -> str:
        """Title, lead, body, then byline: one paragraph per line, ready for the normaliser."""
        parts = [self.title, self.lead, *self.paragraphs, self.byline]
        return "\n".join(part for part in parts if part)
