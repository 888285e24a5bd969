"""Split text into paragraphs and sentences, keeping exact offsets into the input.

Portal text keeps one paragraph per line, so every non-blank line is a paragraph, and a
heading or caption without final punctuation ("Toàn cảnh hội nghị") is a sentence of its
own. Inside a line, underthesea's ``sent_tokenize`` finds the sentence ends; two of its
cuts are undone because they fall after an abbreviation, not a sentence:

* the next piece starts with a lower-case letter: "Ông Nguyễn Văn A. là …";
* the piece ends with a dotted abbreviation such as "TX." or "PGS.TS." ("TX. Đồng Đăng"),
  or is only a heading number ("II." before "Nội dung");
* the next piece starts with a digit right after the dot, with no space: the dot is
  part of a code or a number ("ĐT.226", "CT.01").

Splitting happens on the text as written; cleaning comes after, per sentence, so each
sentence's ``start``/``end`` index the caller's string directly.

underthesea is not trusted with any input: before each dot it walks back over the letters,
digits and dots of the word, so a "word" such as "a.a.a.…" of 100,000 characters took
minutes. Inside such a run (:data:`LONG_RUN` characters or more, far longer than any
abbreviation) the dots between letters are hidden from it (:func:`_bounded`): no
sentence ends inside a run of letters and dots that long, and only the run's final dot
is walked back from, once. That dot still ends a sentence, as it did: the word before it
is far too long to be an abbreviation.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tts_service.text.data import load_tsv

__all__ = ["SentenceSpan", "split_paragraphs", "split_sentences"]

logger = logging.getLogger(__name__)

_LINE = re.compile(r"[^\r\n\u2028\u2029\x85]+")
# Python's str.strip() removes NBSP and every other Unicode space, as wanted here.
_HEADING_NUMBER = re.compile(r"(?:[IVXLC]+|[0-9]+(?:\.[0-9]+)*|[a-zđ])[.)]")
# "3/ Chỉ thị", "2) Các sở", "b) Đẩy mạnh": a list item starts a sentence.
_ITEM_START = re.compile(r"(?:[0-9]{1,2}[/)]|[a-zđ]\))\s")
# Initials cut by the tokenizer before their last letter: "T.T." + "H cho biết".
_INITIALS = re.compile(r"(?:[A-ZĐ]\.){2,}")
_LONE_CAPITAL = re.compile(r"[A-ZĐ]\.?(?!\w)")
# A one-letter form ("H.", "P.") right after a capitalised word is an initial: "Nguyễn Văn H."
_INITIAL_AFTER_NAME = re.compile(r"(?:^|\s)[^\W\d_a-zđ]\w*\s+[A-ZĐ]\.$")
# How far back from a piece's end that pattern looks: a name and an initial, not the
# whole merged sentence (searching all of it for every piece was quadratic).
_NAME_WINDOW = 64
# Initials are short: "T.T.", "N.V.K."; a longer last word is neither initials nor abbreviation.
_LONGEST_INITIALS = 16
_FIRST_WORD = re.compile(r"\w+")
# A full stop after a dotted abbreviation or an initial, then a space: "TP. 3/", "H. Ông".
_DOT_SPACE = re.compile(r"(?<=[A-ZĐ])\.\s+(?=[0-9]|[^\W\d_a-zđ])")
# A run of letters, digits and dots long enough to be no word at all, and a dot inside it.
LONG_RUN = 64
_RUN = re.compile(rf"(?:[^\W_]|\.){{{LONG_RUN},}}")
_INNER_DOT = re.compile(r"\.(?=[^\W_])")


@dataclass(frozen=True, slots=True)
class SentenceSpan:
    """One sentence as written: ``text == source[start:end]``, inside paragraph ``paragraph``."""

    paragraph: int
    start: int
    end: int
    text: str


def split_paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of every non-blank line, without its surrounding spaces."""
    for match in _LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if not stripped:
            continue
        start = match.start() + (len(line) - len(line.lstrip()))
        yield start, start + len(stripped)


def split_sentences(text: str, *, abbreviations: Iterable[str] = ()) -> list[SentenceSpan]:
    """Split ``text`` into sentences, numbering paragraphs from 0.

    ``abbreviations`` are the dotted abbreviations ("TP.", "TX.") after which a sentence
    cannot end; the lexicon supplies them.
    """
    dotted = frozenset(a for a in abbreviations if a.endswith("."))
    spans: list[SentenceSpan] = []
    for paragraph, (start, end) in enumerate(split_paragraphs(text)):
        line = text[start:end]
        bounded = _bounded(line)
        pieces = _split_after_dots(line, _locate(bounded, _tokenizer()(bounded)), dotted)
        for piece_start, piece_end in _merge(line, pieces, dotted):
            spans.append(
                SentenceSpan(
                    paragraph, start + piece_start, start + piece_end, line[piece_start:piece_end]
                )
            )
    return spans


@lru_cache(maxsize=1)
def _tokenizer() -> Callable[[str], list[str]]:
    """underthesea's sentence tokenizer, loaded on first use.

    Only the tokenizer's own module is loaded, from the installed package: importing
    ``underthesea`` runs its ``__init__``, which imports every pipeline and model (~0.4 s,
    half the start-up of ``tts-service normalize``), while the tokenizer needs only the
    standard library. If the package layout ever changes, the normal import is used.
    """
    try:
        tokenize = _load_leaf_tokenizer()
    except (ImportError, OSError, AttributeError):
        logger.debug("underthesea's tokenizer module not found alone; importing the package")
        from underthesea import sent_tokenize

        tokenize = sent_tokenize
    return tokenize


def _load_leaf_tokenizer() -> Callable[[str], list[str]]:
    """``underthesea/pipeline/sent_tokenize/__init__.py`` as a module of its own."""
    package = importlib.util.find_spec("underthesea")
    if package is None or not package.submodule_search_locations:
        raise ImportError("underthesea is not installed")
    path = Path(package.submodule_search_locations[0], "pipeline", "sent_tokenize", "__init__.py")
    spec = importlib.util.spec_from_file_location("_underthesea_sent_tokenize", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tokenize: Callable[[str], list[str]] = module.sent_tokenize
    return tokenize


def _bounded(line: str) -> str:
    """``line`` with the inner dots of every long run of letters, digits and dots hidden.

    Same length, so the tokenizer's pieces are found at the same offsets: "a.a.a…" (100k
    characters) becomes "axaxa…" and one sentence, in one pass instead of one per dot. A
    letter, not a mark, hides each dot, so the final dot still follows one long word.
    """
    if len(line) < LONG_RUN:
        return line
    return _RUN.sub(lambda run: _INNER_DOT.sub("x", run.group()), line)


def _locate(line: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Find each tokenizer piece in ``line``, in order; pieces are stripped substrings."""
    found: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        index = line.find(piece, cursor)
        if index < 0:
            # Never seen with underthesea 9; if a version rewrites text, keep the rest whole.
            found.append((cursor, len(line)))
            return found
        found.append((index, index + len(piece)))
        cursor = index + len(piece)
    if not found:
        found.append((0, len(line)))
    elif found[-1][1] < len(line) and line[found[-1][1] :].strip():
        found.append((found[-1][1] + _leading_space(line[found[-1][1] :]), len(line)))
    return found


def _leading_space(text: str) -> int:
    return len(text) - len(text.lstrip())


def _split_after_dots(
    line: str, spans: list[tuple[int, int]], dotted: frozenset[str]
) -> list[tuple[int, int]]:
    """Cut where underthesea did not, after an abbreviation whose full stop ends a sentence.

    Its tokenizer never cuts after "TP." or a capital and a dot; :func:`_continues` says
    where such a dot ends the sentence anyway ("… địa bàn TP. 3/ Chỉ thị …").
    """
    if "." not in line:
        return spans
    result: list[tuple[int, int]] = []
    for start, end in spans:
        for cut in _DOT_SPACE.finditer(line, start, end):
            previous = (start, cut.start() + 1)
            if cut.end() < end and not _continues(line, previous, cut.end(), dotted, end):
                result.append((start, cut.start() + 1))
                start = cut.end()
        result.append((start, end))
    return result


def _merge(
    line: str, spans: list[tuple[int, int]], dotted: frozenset[str]
) -> list[tuple[int, int]]:
    """Undo cuts made after abbreviations or heading numbers (see the module docstring)."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and merged[-1][1] == start and line[start : start + 1].isdigit():
            # "ĐT.226": no space after the dot, so no sentence ends there
            merged[-1] = (merged[-1][0], end)
        elif merged and _continues(line, merged[-1], start, dotted, end):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _continues(
    line: str, previous: tuple[int, int], start: int, dotted: frozenset[str], end: int
) -> bool:
    """Whether the piece ``line[start:end]`` is not a new sentence but the rest of ``previous``.

    ``previous`` is a span of ``line``, read in place: after many merges it is long ("TX.
    TX. TX. …"), and copying or searching all of it for every piece was quadratic.
    """
    first = line[start : start + 1]
    if first.isalpha() and first.islower():
        # "Ông Nguyễn Văn A. là cán bộ": a sentence never starts in lower case.
        return True
    if _HEADING_NUMBER.fullmatch(line, *previous):
        # "II." + "Nội dung": the heading number belongs to its heading.
        return True
    last = _last_word(line, *previous, max(_longest(dotted), _LONGEST_INITIALS))
    if not last:
        return False
    if _INITIALS.fullmatch(last) and _LONE_CAPITAL.match(line, start, end):
        # "Bà T.T." + "H cho biết": one set of initials
        return True
    # "TX. Đồng Đăng", "PGS.TS. Nguyễn Văn A": a dotted abbreviation ends no sentence, unless
    # its full stop is also the sentence's: "… địa bàn TP." + "3/ Chỉ thị …", "TP." + "Tuy
    # nhiên, …", or it is the initial of a name: "Nguyễn Văn H." + "Ông H. cho biết".
    window = line[max(previous[0], previous[1] - _NAME_WINDOW) : previous[1]]
    return (
        last in dotted
        and not _ITEM_START.match(line, start, end)
        and _first_word(line, start, end) not in _openers()
        and not _INITIAL_AFTER_NAME.search(window)
    )


def _first_word(line: str, start: int, end: int) -> str:
    word = _FIRST_WORD.match(line, start, end)
    return word.group() if word else ""


@lru_cache(maxsize=1)
def _openers() -> frozenset[str]:
    """Capitalised words that start a sentence, never a place (``data/sentence_openers.tsv``)."""
    return frozenset(row[0] for row in load_tsv("sentence_openers.tsv"))


@lru_cache(maxsize=8)
def _longest(dotted: frozenset[str]) -> int:
    return max(map(len, dotted), default=0)


def _last_word(line: str, start: int, end: int, longest: int) -> str:
    """The last run of non-spaces of ``line[start:end]`` (as ``\\S+$`` finds it).

    A run longer than ``longest`` is no abbreviation, so "" stands for it: the walk stops
    there, or "A?A?A?…", merged piece by piece, would be walked again for every piece.
    """
    first = end
    while first > start and not line[first - 1].isspace():
        first -= 1
        if end - first > longest:
            return ""
    return line[first:end]
