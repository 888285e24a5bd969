"""Hostile inputs, by class, built from the very data the extractor and the normaliser read.

Each class yields :class:`Hostile` cases: a ``build(n)`` that makes an input of about
``n`` repetitions of a unit, and the stage it is aimed at (``plain`` text through the
plain-text extractor, ``html`` through the HTML extractor, ``text`` straight into the
normaliser and the chunker). The tests in this package compare the work for ``n`` and
``4 n`` of the same case: a linear stage does about 4 times the work, a quadratic one 16.

The units come from the data files (every phrase of ``tts_service/extract/data/*.txt``,
every symbol of ``symbols.tsv``, every context word of the Roman-numeral, date and
legal-code rules), so a phrase added to a data file is attacked too, without a test
being written for it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources import files

from tts_service.extract.data import load_lines
from tts_service.text.data import load_tsv
from tts_service.text.symbols import DASHES, symbol_readings

__all__ = [
    "CLASSES",
    "Hostile",
    "all_cases",
    "dateline_prefixes",
    "extract_phrases",
    "sample_of",
    "symbols",
]

# Phrase files of the extractor, read as literal phrases; the others hold regexes.
_LITERAL_FILES = ("banner_openers.txt", "byline_prefixes.txt", "chrome_phrases.txt")
_REGEX_FILES = ("boilerplate_names.txt", "caption_names.txt", "lead_names.txt")
# Words the dateline of a page opens with: "Cập nhật lúc 10:30 - 09/07/2021".
_DATELINE_WORDS = (
    "thứ hai",
    "thứ sáu",
    "chủ nhật",
    "cập nhật",
    "cập nhật lúc",
    "ngày đăng",
    "đăng ngày",
    "ngày cập nhật",
    "ngày",
    "đăng lúc",
    "lúc",
)


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile input family: ``build(n)`` makes the input, ``stage`` says where it goes."""

    name: str
    stage: str
    build: Callable[[int], str]

    def __str__(self) -> str:
        return f"{self.stage}:{self.name}"


def sample_of(pattern: str) -> str:
    """A short string that ``pattern`` fully matches: ``"(tin-?)?lien-?quan(-.*)?"`` → "lien-quan".

    Only the regex syntax of the class-name files is needed: literals, classes, groups,
    alternation (first branch) and repeats (the fewest, but one for ``*``).
    """
    out: list[str] = []
    i = 0
    depth_stack: list[int] = []
    while i < len(pattern):
        char = pattern[i]
        if char == "(":
            if pattern.startswith("(?:", i):
                i += 2
            depth_stack.append(len(out))
            out.append("(")
        elif char == ")":
            start = depth_stack.pop()
            group = "".join(out[start + 1 :]).split("|")[0]
            del out[start:]
            out.append(group)
            if pattern[i + 1 : i + 2] in ("?", "*"):
                i += 1
                if pattern[i] == "?":
                    out[-1] = ""
        elif char == "|" and not depth_stack:
            break
        elif char == ".":
            out.append("x")
        elif char in "?*+":
            if char == "?" and out:
                out.pop()
        elif char == "_" or char not in "[]\\":
            out.append(char)
        i += 1
    text = "".join(out)
    if re.fullmatch(pattern, text, re.IGNORECASE) is None:
        raise ValueError(f"no sample for {pattern!r}: {text!r}")
    return text


def extract_phrases() -> list[tuple[str, str]]:
    """(file, phrase) for every phrase of the extractor's data files."""
    phrases = [(name, phrase) for name in _LITERAL_FILES for phrase in load_lines(name)]
    phrases += [(name, sample_of(p)) for name in _REGEX_FILES for p in load_lines(name)]
    return phrases


def dateline_prefixes() -> tuple[str, ...]:
    """The words a bare dateline may open with, each of which may repeat."""
    return _DATELINE_WORDS


def symbols() -> list[str]:
    """Every character a rule, the cleaner or the unit builder treats specially."""
    chars = set(string.punctuation) | set(DASHES) | set(symbol_readings())
    chars |= {"…", "“", "”", "‘", "’", "«", "»", "•", "·", "\u00a0", "\u2009", "\u200b"}
    chars |= {"\u00ad", "\u2066", "\u2069", "\u202e", "\ufeff", "²", "³", "°", "đ", "$", "€"}
    return sorted(chars)


def _context_words() -> list[tuple[str, str]]:
    """(file, word) for every context word of the normaliser's rules."""
    words: list[tuple[str, str]] = []
    for path in (
        "roman_context.tsv",
        "legal/type_words.tsv",
        "date/day_context.tsv",
        "date/name_context.tsv",
        "phone_context.tsv",
        "plate_context.tsv",
    ):
        words += [(path, row[0]) for row in load_tsv(path) if row and row[0]]
    return words


def _html(body: str) -> str:
    return f"<html><head><title>Tin</title></head><body><article>{body}</article></body></html>"


def _safe(name: str) -> str:
    return name.encode("unicode_escape").decode("ascii")


def _phrase_cases() -> Iterator[Hostile]:
    """Every extractor phrase repeated, in a line of text and in an HTML paragraph."""
    for file, phrase in extract_phrases():
        unit = f"{phrase} "
        tag = f"{file.removesuffix('.txt')}:{_safe(phrase)}"
        yield Hostile(f"{tag}:line", "plain", lambda n, u=unit: (u + "| " + u) * n + "x.")
        yield Hostile(
            f"{tag}:paragraph",
            "html",
            lambda n, p=phrase, u=unit: _html(f'<p class="{p.replace(" ", "-")}">{u * n}x</p>'),
        )


def _dateline_cases() -> Iterator[Hostile]:
    """Dateline openers repeated before something that is not a date, and before a date."""
    for word in dateline_prefixes():
        unit = f"{word} "
        tag = f"dateline:{_safe(word)}"
        yield Hostile(f"{tag}:no-date", "plain", lambda n, u=unit: f"Tin\n{u * n}x\nBài.")
        yield Hostile(f"{tag}:commas", "plain", lambda n, u=unit: f"Tin\n{(u + ', ') * n}9/7\nBài.")
        yield Hostile(f"{tag}:paragraph", "html", lambda n, u=unit: _html(f"<p>{u * n}x</p>"))


def _symbol_cases() -> Iterator[Hostile]:
    """Long runs of every special character, alone and between letters and digits."""
    for char in symbols():
        tag = f"symbol:{_safe(char)}"
        yield Hostile(f"{tag}:run", "text", lambda n, c=char: f"a{c * (8 * n)}a")
        yield Hostile(f"{tag}:letters", "text", lambda n, c=char: f"a{c}A{c}1{c}" * (2 * n) + "a")
        yield Hostile(f"{tag}:spaced", "text", lambda n, c=char: f"1 {c} A {c} " * n + "1")


def _context_cases() -> Iterator[Hostile]:
    """Every context word of a rule repeated, with and without what it introduces."""
    for file, word in _context_words():
        tag = f"context:{file}:{_safe(word)}"
        yield Hostile(tag, "text", lambda n, w=word: f"{w} II, {w} 9/7 {w} 15/2021 115 " * n)


# Named shapes: long lists of numbers, numerals, abbreviations, dates and capitals.
_SHAPES: dict[str, tuple[str, Callable[[int], str]]] = {
    "hyphens": ("text", lambda n: "a" + "-" * (8 * n) + "a"),
    "hyphens-digits": ("text", lambda n: "1" + "-" * (8 * n) + "1"),
    "slashes": ("text", lambda n: "a" + "/" * (8 * n) + "a"),
    "dots-letters": ("text", lambda n: "a." * (4 * n) + "a"),
    "dots-capitals": ("text", lambda n: "A." * (4 * n) + "A"),
    "dots-digits": ("text", lambda n: "1." * (4 * n) + "1"),
    "commas-digits": ("text", lambda n: "1," * (4 * n) + "1"),
    "integers-spaced": ("text", lambda n: "12 " * (3 * n) + "x."),
    "thousands-spaced": ("text", lambda n: "1" + " 000" * (2 * n) + "."),
    "thousands-dotted": ("text", lambda n: "1" + ".000" * (2 * n) + "."),
    "integers-commas": ("text", lambda n: "12, " * (2 * n) + "x."),
    "long-digits": ("text", lambda n: "1" * (8 * n)),
    "zero-digits": ("text", lambda n: "0" * (8 * n)),
    "decimals": ("text", lambda n: "1,5 " * (2 * n)),
    "roman": ("text", lambda n: "XVI " * (2 * n) + "x."),
    "roman-list": ("text", lambda n: "khóa " + "XVI, " * (2 * n) + "x."),
    "roman-ordinal": ("text", lambda n: "lần thứ " + "IV và " * (2 * n) + "x."),
    "roman-glued": ("text", lambda n: "I" * (8 * n)),
    "roman-headings": ("text", lambda n: "II. " * (2 * n)),
    "capitals": ("text", lambda n: "HỘI " * (2 * n) + "x."),
    "capitals-plain": ("text", lambda n: "BAN " * (2 * n) + "x."),
    "acronyms": ("text", lambda n: "PDF " * (2 * n) + "x."),
    "acronyms-glued": ("text", lambda n: "A" * (8 * n)),
    "abbreviations": ("text", lambda n: "UBND " * (2 * n) + "x."),
    "abbreviations-dotted": ("text", lambda n: "TP." * (3 * n) + "x"),
    "senses": ("text", lambda n: "CP " * (3 * n) + "x."),
    "dates": ("text", lambda n: "ngày 9/7/2021 " * n),
    "dates-bare": ("text", lambda n: "9/7 " * (2 * n)),
    "dates-dashed": ("text", lambda n: "9-7-" * (2 * n) + "2021"),
    "day-ranges": ("text", lambda n: "8-9/7 " * (2 * n)),
    "times": ("text", lambda n: "10:30 " * (2 * n)),
    "times-glued": ("text", lambda n: "10:" * (3 * n) + "30"),
    "times-h": ("text", lambda n: "10h" * (3 * n) + "30"),
    "money": ("text", lambda n: "5 triệu " * n + "đồng"),
    "scale-words": ("text", lambda n: "5" + " triệu" * (2 * n) + " x."),
    "measures": ("text", lambda n: "5 km " * (2 * n)),
    "percent-run": ("text", lambda n: "5" + "%" * (8 * n)),
    "legal-codes": ("text", lambda n: "15/2021/NĐ-CP " * n),
    "legal-parts": ("text", lambda n: "15/" + "NĐ-" * (3 * n) + "CP"),
    "phones": ("text", lambda n: "0912 345 678 " * n),
    "plates": ("text", lambda n: "30A-123.45 " * (2 * n)),
    "plate-cues": ("text", lambda n: "xe BS 12F1-3456 " * n + "12F1-3456"),
    "plates-unannounced": ("text", lambda n: "12A-3456 " * (2 * n)),
    "urls": ("text", lambda n: "https://a.vn/" + "b/" * (4 * n)),
    "domains": ("text", lambda n: "a." * (4 * n) + "vn"),
    "emails": ("text", lambda n: "a." * (4 * n) + "a@b"),
    "hashtags": ("text", lambda n: "#a" * (4 * n)),
    "rates": ("text", lambda n: "5 đồng" + "/kg" * (3 * n)),
    "tone-marks": ("text", lambda n: "hoà " * (3 * n)),
    "glued-commas": ("text", lambda n: "a,b" * (3 * n)),
    "ellipsis": ("text", lambda n: "a" + "." * (8 * n)),
    "brackets": ("text", lambda n: "(" * (4 * n) + "a" + ")" * (4 * n)),
    "quotes": ("text", lambda n: '"' * (8 * n) + "a"),
    "long-word": ("text", lambda n: "a" * (8 * n)),
    "long-syllables": ("text", lambda n: "langson" * n),
    "lines": ("text", lambda n: "a\n" * (4 * n)),
    "blank-lines": ("text", lambda n: "\n\n" * (4 * n) + "a"),
    "spaces": ("text", lambda n: "a" + " " * (8 * n) + "a"),
    "nbsp": ("text", lambda n: "a" + "\u00a0" * (8 * n) + "a"),
    "format-chars": ("text", lambda n: "ngày 09\u2069/07/2021 " * n),
    "combining": ("text", lambda n: "e" + "\u0301" * (8 * n)),
    "sentences": ("text", lambda n: "a.a." * (2 * n)),
    "abbrev-sentences": ("text", lambda n: "TX. " * (3 * n) + "Đồng."),
    "plain-lower-lines": ("plain", lambda n: "Tin\n" + "a\n" * (4 * n) + "Bài."),
    "plain-chrome": ("plain", lambda n: "In trang\n" * (2 * n) + "Bài."),
    "plain-indent": ("plain", lambda n: " " * (8 * n) + "Vy"),
    "plain-breadcrumbs": ("plain", lambda n: "Trang chủ > " * (2 * n) + "x\nBài."),
    "plain-caps": ("plain", lambda n: "SỞ\n" * (4 * n) + "Bài."),
    "html-nested-div": ("html", lambda n: _html("<div>" * n + "Bài." + "</div>" * n)),
    "html-nested-b": ("html", lambda n: _html("<p>" + "<b>" * n + "Bài." + "</b>" * n + "</p>")),
    "html-nested-span": (
        "html",
        lambda n: _html("<span>a " * n + "Bài." + "</span>" * n),
    ),
    "html-nested-tables": (
        "html",
        lambda n: _html("<table><tr><td>" * n + "Bài." + "</td></tr></table>" * n),
    ),
    "html-nested-lists": ("html", lambda n: _html("<ul><li>a" * n + "</li></ul>" * n)),
    "html-nested-furniture": (
        "html",
        lambda n: _html('<div class="share">' * n + "<h1>Tin</h1>Bài." + "</div>" * n),
    ),
    "html-nested-sapo": (
        "html",
        lambda n: _html('<div class="sapo">a' * n + "Bài." + "</div>" * n),
    ),
    "html-nested-caption": (
        "html",
        lambda n: _html('<div class="caption">a ' * n + "</div>" * n),
    ),
    "html-paragraphs": ("html", lambda n: _html("<p>Bài viết.</p>" * n)),
    "html-table-rows": (
        "html",
        lambda n: _html("<table>" + "<tr><th>A</th><td>1</td></tr>" * n + "</table>"),
    ),
    "html-breaks": ("html", lambda n: _html("<p>" + "a<br>" * (2 * n) + "</p>")),
    "html-empty-tags": ("html", lambda n: _html("<p>Bài.</p>" + "<i></i>" * (2 * n))),
    "html-attributes": ("html", lambda n: _html('<p class="' + "a " * (4 * n) + '">Bài.</p>')),
    "html-entities": ("html", lambda n: _html("<p>" + "&amp;" * (2 * n) + "</p>")),
    "html-comments": ("html", lambda n: _html("<p>Bài.</p>" + "<!--a-->" * (2 * n))),
    "html-unclosed": ("html", lambda n: _html("<p>a" * (2 * n))),
}


def _shape_cases() -> Iterator[Hostile]:
    for name, (stage, build) in _SHAPES.items():
        yield Hostile(name, stage, build)


CLASSES: dict[str, Callable[[], Iterator[Hostile]]] = {
    "phrases": _phrase_cases,
    "datelines": _dateline_cases,
    "symbols": _symbol_cases,
    "contexts": _context_cases,
    "shapes": _shape_cases,
}
"""Hostile classes by name; each yields its cases."""


def all_cases() -> list[Hostile]:
    """Every case of every class."""
    return [case for cases in CLASSES.values() for case in cases()]


def data_files() -> list[str]:
    """The extractor's phrase files, so a test can check none is left out."""
    folder = files("tts_service.extract.data")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt"))
