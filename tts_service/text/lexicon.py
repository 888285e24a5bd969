"""Abbreviation lexicons: the built-in one, plus an optional site lexicon that wins.

The built-in entries live in ``data/abbreviations.tsv`` (one reading each) and
``data/abbreviation_senses.tsv`` (abbreviations such as CP or TT whose reading depends
on the words around them). A portal can add or override entries with its own TSV file,
``written form<TAB>reading`` per line, named by the ``TTS_SITE_LEXICON`` setting:
its entries replace built-in ones of the same written form, senses included.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from tts_service.text.data import load_map, load_tsv

__all__ = ["Lexicon", "Sense"]

#: Stands for "any number in digits" in a sense's cues: "TT 01/2020" → thông tư.
NUMBER_CUE = "<số>"
#: A year of birth or of an event, 1900–2099: "SN 1992" → sinh năm.
YEAR_CUE = "<năm>"
#: A proper name next (a capitalised word), unless the form itself follows a capitalised
#: word, as an initial does: "P. Bến Thành" → phường, but "Nguyễn Văn P. Bến" is a name.
NAME_CUE = "<tên>"
_YEAR = re.compile(r"\s*(?:19|20)[0-9]{2}(?![0-9])")
_NAME_AFTER = re.compile(r"\s*[^\W\d_a-zđ]")
_CAPITALISED_BEFORE = re.compile(r"(?<![\w])[^\W\d_a-zđ]\w*\s*$")
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Sense:
    """One reading of an ambiguous abbreviation and the neighbouring words that select it.

    ``where`` is ``"before"``, ``"after"``, ``"near"`` (anywhere in the text around it)
    or ``"default"``; ``cues`` are lower-case word sequences such as ``"công ty"``.
    """

    reading: str
    where: str
    cues: tuple[str, ...] = ()

    def matches(self, before: str, after: str) -> bool:
        """Whether this sense applies between the texts ``before`` and ``after`` it."""
        if self.where == "default":
            return True
        if self.where == "before":
            words = _WORDS.findall(before.lower())
            return any(_ends_with(words, cue.split()) for cue in self.cues)
        if self.where == "near":
            # "Thông tư 01/2020/TT-BTC của BTC": a cue on either side, not necessarily adjacent
            words = _WORDS.findall(f"{before} {after}".lower())
            return any(_contains(words, cue.split()) for cue in self.cues)
        words = _WORDS.findall(after.lower())
        for cue in self.cues:
            if cue == NUMBER_CUE:
                # "BS: 12A-345.67": a colon may stand between the form and its number
                if after.lstrip(" :")[:1].isdigit():
                    return True
            elif cue == YEAR_CUE:
                if _YEAR.match(after):
                    return True
            elif cue == NAME_CUE:
                if _NAME_AFTER.match(after) and not _CAPITALISED_BEFORE.search(before):
                    return True
            elif words[: len(cue.split())] == cue.split():
                return True
        return False


def _ends_with(words: list[str], cue: list[str]) -> bool:
    return len(words) >= len(cue) and words[len(words) - len(cue) :] == cue


def _contains(words: list[str], cue: list[str]) -> bool:
    size = len(cue)
    return any(words[i : i + size] == cue for i in range(len(words) - size + 1))


class Lexicon:
    """Written abbreviations and their readings, e.g. ``UBND`` → "Ủy ban nhân dân".

    Instances are immutable and hashable (by :attr:`fingerprint`), so the pipeline can
    cache one normaliser per lexicon.
    """

    __slots__ = ("_entries", "_senses", "fingerprint", "site_keys")

    def __init__(
        self,
        entries: Mapping[str, str],
        senses: Mapping[str, tuple[Sense, ...]] | None = None,
        *,
        site_keys: frozenset[str] = frozenset(),
    ) -> None:
        """Build a lexicon from plain ``entries`` and context-dependent ``senses``.

        ``site_keys`` are the written forms that came from the site lexicon, so a rewrite
        can say it was the editors' entry ("site_lexicon") rather than a built-in one.
        """
        senses = senses or {}
        self.site_keys = site_keys
        self._entries: Mapping[str, str] = MappingProxyType(dict(entries))
        self._senses: Mapping[str, tuple[Sense, ...]] = MappingProxyType(
            {key: value for key, value in senses.items() if key not in entries}
        )
        digest = hashlib.sha256()
        for key in sorted(self._entries):
            digest.update(f"{key}\t{self._entries[key]}\n".encode())
        for key in sorted(self._senses):
            for sense in self._senses[key]:
                digest.update(f"{key}\t{sense.reading}\t{sense.where}\t{sense.cues}\n".encode())
        #: Hash of every entry: part of the audio cache key, since entries change speech.
        self.fingerprint: str = digest.hexdigest()[:16]

    @classmethod
    def builtin(cls) -> Lexicon:
        """The lexicon shipped with the package (loaded once per process)."""
        return _builtin()

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        """The built-in lexicon, overridden by the site lexicon TSV at ``path`` if given.

        Raises ``ValueError`` naming the line when a row of the site file has no tab.
        """
        if path is None:
            return _builtin()
        return cls.with_site(_read_site_lexicon(path))

    @classmethod
    def with_site(cls, site: Mapping[str, str]) -> Lexicon:
        """The built-in lexicon overridden by the site's ``written → reading`` entries."""
        base = _builtin()
        if not site:
            return base
        site = {
            unicodedata.normalize("NFC", k): unicodedata.normalize("NFC", v)
            for k, v in site.items()
        }
        return cls({**base.entries, **site}, base.senses, site_keys=frozenset(site))

    @property
    def site_entries(self) -> dict[str, str]:
        """The entries that came from the site lexicon."""
        return {key: self._entries[key] for key in sorted(self.site_keys)}

    @property
    def entries(self) -> Mapping[str, str]:
        """Written form → reading, for abbreviations with a single reading."""
        return self._entries

    @property
    def senses(self) -> Mapping[str, tuple[Sense, ...]]:
        """Written form → its readings in context, tried in order."""
        return self._senses

    def keys(self) -> frozenset[str]:
        """Every written form this lexicon can read."""
        return frozenset(self._entries) | frozenset(self._senses)

    def dotted_prefixes(self) -> frozenset[str]:
        """Capitalised abbreviations ending in a dot ("TP.", "PGS.TS."): no sentence ends there."""
        return frozenset(k for k in self.keys() if k.endswith(".") and k[:1].isupper())

    def read(self, written: str, before: str = "", after: str = "") -> str | None:
        """The reading of ``written`` between the texts ``before`` and ``after``, or ``None``.

        "CP" after "công ty" → "cổ phần"; alone → "Chính phủ". ``None`` when the form is
        unknown or no sense of it fits (the caller then spells it).
        """
        reading = self._entries.get(written)
        if reading is not None:
            return reading
        for sense in self._senses.get(written, ()):
            if sense.matches(before, after):
                return sense.reading
        return None

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lexicon) and other.fingerprint == self.fingerprint

    def __repr__(self) -> str:
        return f"Lexicon({len(self._entries)} entries, {len(self._senses)} ambiguous)"


@lru_cache(maxsize=1)
def _builtin() -> Lexicon:
    entries = load_map("abbreviations.tsv")
    senses: dict[str, list[Sense]] = {}
    for written, reading, where, *cues in load_tsv("abbreviation_senses.tsv"):
        cue_list = tuple(c.strip() for c in cues[0].split("|")) if cues else ()
        senses.setdefault(written, []).append(Sense(reading, where, cue_list))
    return Lexicon(entries, {key: tuple(value) for key, value in senses.items()})


def _read_site_lexicon(path: Path) -> dict[str, str]:
    """Parse a site lexicon: ``written<TAB>reading`` lines, ``#`` comments, NFC."""
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        written, tab, reading = line.partition("\t")
        if not tab or not written.strip() or not reading.strip():
            raise ValueError(f"{path}:{number}: expected 'written<TAB>reading', got {line!r}")
        entries[written.strip()] = reading.strip()
    return entries
