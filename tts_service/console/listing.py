"""The console's article list: the articles a key may reach, searched, filtered and paged.

Search is by id or title, ignoring case and Vietnamese tone marks ("hdnd" finds
"Kỳ họp HĐND"), which SQL's ``LIKE`` cannot do for non-ASCII letters; so the ids and
titles of the key's articles are read (two short columns) and matched here, and only the
page shown is read in full.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa

from tts_service.registry.access import SITE, may_access
from tts_service.registry.articles import ArticleRegistry
from tts_service.registry.store import ArticleRecord
from tts_service.registry.tables import articles
from tts_service.settings import ApiKey

__all__ = ["Listing", "fold", "list_articles"]


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of the list, and how many articles and pages match."""

    records: list[ArticleRecord]
    total: int
    page: int
    pages: int


def fold(text: str) -> str:
    """Lower case without tone or vowel marks, đ as d: ``Kỳ họp HĐND`` → ``ky hop hdnd``."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def list_articles(
    registry: ArticleRegistry,
    *,
    key: ApiKey,
    query: str = "",
    status: str | None = None,
    page: int = 1,
    size: int,
) -> Listing:
    """The ``page``-th ``size`` articles ``key`` may reach, in id order, matching the query."""
    query_rows = sa.select(articles.c.id, articles.c.title).order_by(articles.c.id)
    if not may_access(key, SITE):
        query_rows = query_rows.where(articles.c.owner == key.name)
    if status:
        query_rows = query_rows.where(articles.c.status == status)
    # Read-only: the registry's store writes; the console only looks.
    with registry.store.db.read() as db:
        rows = db.execute(query_rows).all()
    wanted = fold(query.strip())
    ids = [
        str(article_id)
        for article_id, title in rows
        if not wanted or wanted in fold(str(article_id)) or wanted in fold(title or "")
    ]
    total = len(ids)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    records = []
    for article_id in ids[(page - 1) * size : page * size]:
        record = registry.store.get(article_id)
        if record is not None and may_access(key, record.owner):
            records.append(record)
    return Listing(records, total, page, pages)
