"""The normaliser: article text in, a :class:`~tts_service.text.model.Document` to read out.

Mechanism only; the policy is elsewhere (steps in :mod:`.steps`, rules in
:mod:`.rules`, punctuation in :mod:`.symbols`). For each sentence found by
:mod:`.sentences` in the text as written:

1. the cleaning steps run in order, each ``str -> str`` (as in gTTS's tokenizer);
2. rules run in priority order, each claiming the spans it can read, never one that
   overlaps an earlier claim ("15/2021/NĐ-CP" is read whole before dates could take
   "15/2021"); a rule is not even tried on a sentence without any of the characters it
   ``needs`` (no digit, no date);
3. the text is cut into units: every claim is one unit with its reading, every other
   word is a unit with the punctuation around it ("chính,", "(Cụm"); quotes and bullets
   are dropped.

Offsets of rewrites point into the caller's string (see :class:`.offsets.OffsetMap`).
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from tts_service.text import symbols
from tts_service.text.lexicon import Lexicon
from tts_service.text.model import Document, Rewrite, Sentence
from tts_service.text.offsets import OffsetMap
from tts_service.text.rules import registered_rules
from tts_service.text.rules.base import Rule
from tts_service.text.sentences import split_sentences
from tts_service.text.steps import DEFAULT_STEPS, Step

__all__ = ["NORMALIZER_VERSION", "Normalizer", "normalize", "normalize_line"]

logger = logging.getLogger(__name__)

#: Bump whenever a change alters what is spoken: it is part of every audio cache key.
NORMALIZER_VERSION = "4"

_TOKEN = re.compile(r"\S+")
_DOTS = re.compile(r"\.{2,}|…")


@dataclass(frozen=True, slots=True)
class _Claim:
    start: int
    end: int
    spoken: str
    rule: str


class Normalizer:
    """An ordered tuple of cleaning steps and a priority-sorted tuple of rules.

    ``Normalizer()`` uses the default steps and every registered rule with the built-in
    lexicon; ``Normalizer(lexicon=Lexicon.load(path))`` reads a site's abbreviations.
    """

    def __init__(
        self,
        *,
        steps: Iterable[Step] = DEFAULT_STEPS,
        rules: Iterable[Rule] | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        """Build a normaliser; ``rules`` default to :func:`.rules.registered_rules`."""
        self.lexicon = lexicon if lexicon is not None else Lexicon.builtin()
        self.steps: tuple[Step, ...] = tuple(steps)
        if rules is None:
            rules = registered_rules(lexicon)
        self.rules: tuple[Rule, ...] = tuple(sorted(rules, key=lambda rule: rule.priority))
        self._dotted = self.lexicon.dotted_prefixes()

    def clean(self, text: str) -> str:
        """Run every cleaning step over ``text``, in order."""
        for step in self.steps:
            text = step(text)
        return text

    def normalize(self, text: str) -> Document:
        """Split ``text`` into sentences and read each; silent sentences are dropped."""
        sentences: list[Sentence] = []
        paragraphs: dict[int, int] = {}
        for span in split_sentences(text, abbreviations=self._dotted):
            units, rewrites = self.read(span.text, offset=span.start)
            if not units:
                continue
            # Paragraphs are renumbered so that a dropped line ("* * *") leaves no gap.
            paragraph = paragraphs.setdefault(span.paragraph, len(paragraphs))
            sentences.append(
                Sentence(
                    index=len(sentences),
                    paragraph=paragraph,
                    text=span.text,
                    start=span.start,
                    end=span.end,
                    units=units,
                    rewrites=rewrites,
                )
            )
        return Document(tuple(sentences))

    def read(
        self, sentence: str, *, offset: int = 0
    ) -> tuple[tuple[str, ...], tuple[Rewrite, ...]]:
        """The units and rewrites of one sentence; rewrite offsets are shifted by ``offset``."""
        cleaned = self.clean(sentence)
        positions = OffsetMap(sentence, cleaned)
        units = _Units()
        rewrites: list[Rewrite] = []
        cursor = 0
        for claim in self._claims(cleaned):
            units.add_text(cleaned[cursor : claim.start])
            units.add_expression(claim.spoken)
            start, end = positions.start(claim.start), positions.end(claim.end)
            rewrites.append(
                Rewrite(offset + start, offset + end, sentence[start:end], claim.spoken, claim.rule)
            )
            cursor = claim.end
        units.add_text(cleaned[cursor:])
        return units.finish(), tuple(rewrites)

    def _claims(self, text: str) -> list[_Claim]:
        """Every rule's matches, in priority order, skipping spans already claimed."""
        starts: list[int] = []
        claims: list[_Claim] = []
        present = frozenset(text)
        for rule in self.rules:
            if rule.needs and rule.needs.isdisjoint(present):
                # No digit in the sentence: no date, amount or phone number to find
                continue
            pos = 0
            while (match := rule.pattern.search(text, pos)) is not None:
                start, end = match.span()
                at = bisect_right(starts, start)
                if at and claims[at - 1].end > start:
                    # It starts inside a claim, and so would every match starting before the
                    # claim's end: look again from there. Retrying one character on instead
                    # matched "b/b/b/…" inside a claimed URL once per slash, quadratic.
                    pos = claims[at - 1].end
                    continue
                if start == end or (at < len(claims) and starts[at] < end):
                    # Look again just after this start, not after this match's end: in
                    # "lúc 10:30 100" the cardinal rule first finds "30 100" (thousands
                    # grouped by a space), which overlaps the time; "100" must still be read.
                    pos = start + 1
                    continue
                pos = end
                spoken = _verbalize(rule, match)
                if spoken is None:
                    continue
                starts.insert(at, start)
                claims.insert(at, _Claim(start, end, spoken, rule.name))
        return claims


def _verbalize(rule: Rule, match: re.Match[str]) -> str | None:
    """``rule.verbalize(match)``; a failing rule declines instead of losing the article."""
    try:
        return rule.verbalize(match)
    except Exception as exc:
        # Where, not what: the text may be an unpublished draft, and an exception's message
        # (so its traceback) often quotes it ("invalid literal for int(): '12a'"). The rule,
        # the error's type and the span are enough to find it in the editor's copy, and
        # `tts-service normalize` on that copy reproduces it.
        logger.error(
            "rule %s raised %s on the %d characters at offset %d",
            rule.name,
            type(exc).__name__,
            len(match.group()),
            match.start(),
        )
        return None


class _Units:
    """Builds a sentence's units: words with the punctuation around them, and expressions.

    The unit being built is kept as a list of characters, and waiting brackets as a list,
    so that each mark costs the same however many came before: a word followed by 100,000
    ")" was copied once per bracket, quadratic in the run.
    """

    __slots__ = ("_done", "_last", "_opening")

    def __init__(self) -> None:
        self._done: list[str] = []
        # The characters of the last unit, which trailing marks are still attached to.
        self._last: list[str] = []
        # Opening brackets waiting for the next unit: "(" before "Cụm trưởng)".
        self._opening: list[str] = []

    def finish(self) -> tuple[str, ...]:
        """The sentence's units, in order."""
        if self._last:
            return (*self._done, "".join(self._last))
        return tuple(self._done)

    def add_expression(self, spoken: str) -> None:
        """One rule's reading, never cut by the chunker: "Ủy ban nhân dân"."""
        spoken = spoken.strip()
        if spoken in symbols.CLAUSE:
            # A pause read for a mark ("học sinh/sinh viên" → "học sinh, sinh viên"): it
            # goes on the word before, as written punctuation does
            self._attach(spoken)
        elif spoken:
            self._add(spoken)

    def add_text(self, text: str) -> None:
        """Words between expressions, each with its punctuation: "(Cụm", "trưởng),"."""
        for token in _TOKEN.findall(text):
            if token.isalnum():
                # A plain word, the commonest case: nothing to keep or drop around it.
                self._add(token)
                continue
            lead, word, trail = _split_token(token)
            if not word:
                # A lone mark: "," after an expression, "-" between words, "•" bullet.
                self._trailing(token, alone=True)
                continue
            self._leading(lead)
            self._add(word)
            self._trailing(trail, alone=False)

    def _add(self, unit: str) -> None:
        if self._last:
            self._done.append("".join(self._last))
        self._last = [*self._opening, *unit]
        self._opening = []

    def _leading(self, marks: str) -> None:
        """Keep opening brackets; drop quotes, bullets and dashes before a word ("-A", "“Quyết")."""
        self._opening += [m for m in marks if m in symbols.OPENING]

    def _trailing(self, marks: str, *, alone: bool) -> None:
        """Keep punctuation after a word on it: "chính," "trưởng)." "Lực -"."""
        marks = _DOTS.sub("\u2026", marks)
        for index, mark in enumerate(marks):
            if mark in symbols.OPENING:
                # "(" standing alone before an expression: "(-3,5)" → "(âm ba phẩy năm)"
                self._opening.append(mark)
            elif mark in symbols.CLOSING:
                self._attach(mark)
            elif mark in symbols.CLAUSE or mark in symbols.FINAL or mark == "\u2026":
                # "chính," "năm 2021." keep their pause; "…" is written "..."
                self._attach(symbols.ELLIPSIS if mark == "\u2026" else mark)
            elif mark in symbols.DASHES and alone and index == 0 and not self._paused():
                # "Lực - Phó Giám đốc": a dash between words is a pause, kept as written;
                # after "." or "," it adds nothing ("I. - Nội dung" → "một. Nội dung")
                self._attach(" " + mark)
            # Anything else (quotes, "•", "*") is silent.

    def _paused(self) -> bool:
        """Whether the last unit already ends with a pause mark (or there is none)."""
        return not self._last or symbols.punctuation_rank(self._last[-1]) > 0

    def _attach(self, mark: str) -> None:
        """Put ``mark`` after the last unit; of two pause marks, the stronger one stays."""
        last = self._last
        if not last:
            return
        ellipsis = list(symbols.ELLIPSIS)
        current = symbols.ELLIPSIS if last[-len(ellipsis) :] == ellipsis else last[-1]
        if symbols.punctuation_rank(mark) and symbols.punctuation_rank(current):
            # "trưởng,." → "trưởng."; "2021.," → "2021."
            if symbols.punctuation_rank(mark) > symbols.punctuation_rank(current):
                del last[-len(current) :]
                last.extend(mark)
            return
        last.extend(mark)


def _split_token(token: str) -> tuple[str, str, str]:
    """A token's leading marks, its word (first to last letter or digit), its trailing marks.

    "(Cụm" → ("(", "Cụm", ""); "trưởng)," → ("", "trưởng", "),"). A walk from each end: a
    lazy regex for the middle rescanned the tail at every step, and one token of a letter,
    40,000 hyphens and a letter took 22 seconds.
    """
    start, end = 0, len(token)
    while start < end and not token[start].isalnum():
        start += 1
    while end > start and not token[end - 1].isalnum():
        end -= 1
    return token[:start], token[start:end], token[end:]


@lru_cache(maxsize=8)
def _normalizer(lexicon: Lexicon | None) -> Normalizer:
    return Normalizer(lexicon=lexicon)


def normalize(text: str, *, lexicon: Lexicon | None = None) -> Document:
    """Normalise an article: sentences as written, with what to say and what was rewritten.

    ``lexicon`` adds a site's abbreviations (:meth:`Lexicon.load`); by default only the
    built-in ones are read. Text with nothing to say gives an empty document.
    """
    return _normalizer(lexicon).normalize(text)


def normalize_line(text: str) -> str:
    """The spoken text of one line, sentences joined by spaces.

    ``"UBND tỉnh"`` → "Ủy ban nhân dân tỉnh". Used by ``tts-service normalize --lines``.
    """
    return " ".join(sentence.spoken for sentence in normalize(text).sentences)
