"""What the normaliser could not read: tokens it spelled letter by letter or left as written.

The editors' and our own tool for finding what to add next to a lexicon
(``tts-service normalize --unknown FILE…``, and the ``unknown`` field of
``POST /v1/normalize``). A token is listed when

* a spelling rule read it ("QSD" → "quy ét đê", "F0" → "ép không"), unless newsreaders
  spell it on purpose (``data/spelled.tsv``: VTV, GDP), or
* no rule read it but it looks like an abbreviation or a code: two capitals or more
  ("T.Ư"), a capital after a small letter ("IoT", "eKYC"), letters and digits mixed
  ("Q.10A"), or a mark that the voice cannot say.

Each is reported with the sentence it was found in, and counted over all texts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from tts_service.text.data import load_tsv
from tts_service.text.model import Document, Sentence

__all__ = ["SPELLING_RULES", "Unknown", "UnknownCount", "count_unknown", "find_unknown"]

#: Rules whose reading is a spelling, not a word: their tokens are unknown words.
SPELLING_RULES = frozenset({"acronym", "acronym_number", "mixed_case_guess"})

_TOKEN = re.compile(r"\S+")
_EDGES = "\"'“”‘’()[]{}.,;:!?…«»-–—•*"
_LETTER_DIGIT = re.compile(r"[^\W\d_][0-9]|[0-9][^\W\d_]")


@dataclass(frozen=True, slots=True)
class Unknown:
    """One occurrence: the token as written, how it was said (or ``None``), its sentence."""

    token: str
    spoken: str | None
    sentence: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class UnknownCount:
    """A token, how often it was met, how it was said, and the first sentence it was in."""

    token: str
    count: int
    spoken: str | None
    context: str


@lru_cache(maxsize=1)
def _spelled() -> frozenset[str]:
    return frozenset(row[0] for row in load_tsv("spelled.tsv"))


def _looks_unread(token: str) -> bool:
    """Whether an unclaimed token looks like an abbreviation or a code: "T.Ư", "IoT"."""
    # Two capitals or more ("T.Ư"); a capital after a small letter ("IoT"); a letter and a
    # digit together ("Q.10A"). Case is asked of each letter: a regex range such as
    # [à-ỹ] also holds capitals ("Ư", "Ạ"), and "X.Ư" went unlisted.
    if sum(c.isupper() for c in token) >= 2 or _LETTER_DIGIT.search(token):
        return True
    return any(a.islower() and b.isupper() for a, b in zip(token, token[1:], strict=False))


def _in_sentence(sentence: Sentence) -> list[Unknown]:
    found: list[Unknown] = []
    claimed: list[tuple[int, int]] = []
    for rewrite in sentence.rewrites:
        claimed.append((rewrite.start, rewrite.end))
        # VTV1, VOV3: a channel of a name spelled on purpose is spelled on purpose
        spelled = rewrite.source.rstrip("0123456789") in _spelled()
        if rewrite.rule in SPELLING_RULES and rewrite.source not in _spelled() and not spelled:
            found.append(
                Unknown(rewrite.source, rewrite.spoken, sentence.text, rewrite.start, rewrite.end)
            )
    for match in _TOKEN.finditer(sentence.text):
        start = sentence.start + match.start()
        end = sentence.start + match.end()
        if any(a < end and start < b for a, b in claimed):
            continue
        token = match.group().strip(_EDGES)
        if token and token not in _spelled() and _looks_unread(token):
            found.append(Unknown(token, None, sentence.text, start, end))
    return found


def find_unknown(document: Document) -> list[Unknown]:
    """Every token of ``document`` that was spelled or left as written, in reading order."""
    return sorted(
        (item for sentence in document.sentences for item in _in_sentence(sentence)),
        key=lambda item: item.start,
    )


def count_unknown(documents: Iterable[Document]) -> list[UnknownCount]:
    """Unknown tokens over ``documents``, most frequent first (then alphabetical)."""
    counts: Counter[str] = Counter()
    first: dict[str, Unknown] = {}
    for document in documents:
        for item in find_unknown(document):
            counts[item.token] += 1
            first.setdefault(item.token, item)
    return [
        UnknownCount(token, count, first[token].spoken, first[token].sentence)
        for token, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
