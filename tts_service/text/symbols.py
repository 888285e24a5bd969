"""Symbols and punctuation: which are said as words, which are kept, which are dropped.

Data only, like gTTS's ``symbols.py``:

* Readings (``data/symbols.tsv``): "&" → "và", "%" → "phần trăm", "~" → "khoảng", "+"
  → "cộng" between two terms; the rule in :mod:`.rules.symbol` reads them.
* Kept as written, because the engines pause on them: clause and sentence punctuation,
  brackets ("Sở Tài chính (Cụm trưởng) đã") and dashes between words ("Nguyễn Văn Lực -
  Phó Giám đốc"). A mark stays on the word before it, an opening bracket on the word
  after it.
* Dropped: quotes, bullets ("•", a leading "-"), stars and any other sign without a
  reading; "…" is written "...".

The pipeline's unit builder applies these classes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts_service.text.data import load_tsv

__all__ = [
    "CLAUSE",
    "CLOSING",
    "DASHES",
    "ELLIPSIS",
    "FINAL",
    "OPENING",
    "punctuation_rank",
    "symbol_from_tsv",
    "symbol_readings",
]

#: Brackets, kept: the opening one on the next word, the closing one on the word before.
OPENING = frozenset("([{")
CLOSING = frozenset(")]}")
#: Dashes, kept when they stand between words; dropped when they lead a word ("-A").
DASHES = frozenset("-‐‑‒–—―−")
#: Clause punctuation kept on the word before it.
CLAUSE = frozenset(",;:")
#: Sentence-final punctuation kept on the word before it.
FINAL = frozenset(".!?")
#: How an ellipsis ("…", "..", "....") is written in spoken text.
ELLIPSIS = "..."

# When two marks meet (", ." after a dropped quote), the stronger one stays.
_RANK = {",": 1, ";": 2, ":": 2, ".": 3, "!": 3, "?": 3, ELLIPSIS: 3}


def punctuation_rank(mark: str) -> int:
    """How strong a pause ``mark`` is: 1 for ",", 2 for ";" ":", 3 for ". ! ? ...", else 0."""
    return _RANK.get(mark, 0)


_CODE_POINT = re.compile(r"U\+([0-9A-F]{4,6})")


def symbol_from_tsv(field: str) -> str:
    """A symbol as written in a TSV file: itself, or ``U+0023`` for "#" (a comment there)."""
    code = _CODE_POINT.fullmatch(field)
    return chr(int(code.group(1), 16)) if code else field


@lru_cache(maxsize=1)
def symbol_readings() -> dict[str, tuple[str, str]]:
    """Symbol → (reading, context) from ``data/symbols.tsv``: ``"+"`` → ``("cộng", "between")``."""
    return {
        symbol_from_tsv(symbol): (reading, context)
        for symbol, reading, context in load_tsv("symbols.tsv")
    }
