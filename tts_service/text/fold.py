"""Cleaning steps for text that looks right but is not: look-alike letters, entities, glue.

Each is a ``str -> str`` step (see :mod:`tts_service.text.steps`), run before any rule:

* :func:`decode_entities`: an HTML entity left in the text after extraction, because the
  page escaped it twice ("&amp;nbsp;" is shown as "&nbsp;" and would be read "và nbsp").
* :func:`fold_lookalikes`: Latin eth "Ð" for "Đ", Cyrillic or Greek letters inside a
  Vietnamese word ("NÐ-CP" → "NĐ-CP"), then NFC again, since a folded base letter may now
  compose with the marks after it.
* :func:`space_after_date_word`: "tháng8/1945" → "tháng 8/1945", so the date rules see
  the month word and its number apart.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from tts_service.text.data import load_tsv

__all__ = ["decode_entities", "fold_lookalikes", "space_after_date_word"]

# Named or numeric entities: "&nbsp;", "&#160;", "&#xA0;". Bare "&" (R&D, KH&ĐT) is not one.
# An entity, maybe escaped once more ("&amp;nbsp;", whose "&amp;" alone decodes to the
# entity "&nbsp;" that the voice reads "và nbsp").
_ENTITY = re.compile(
    r"&(?:amp;)?(?P<name>[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)
_DATE_WORD = re.compile(r"(?=[tTnNqQ])(?<!\w)((?i:tháng|ngày|năm|quý))(?=[0-9])")


@lru_cache(maxsize=1)
def _lookalikes() -> tuple[dict[str, str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The folding table; regexes of any look-alike, the always-folded ones, the others."""
    table = {row[0]: row[1] for row in load_tsv("lookalikes.tsv")}
    always = "".join(c for c in table if unicodedata.name(c).startswith(("LATIN", "AFRICAN")))
    others = "".join(c for c in table if c not in always)
    return (
        table,
        re.compile(f"[{re.escape(always + others)}]"),
        re.compile(f"[{re.escape(always)}]"),
        re.compile(f"[{re.escape(others)}]"),
    )


_WORD_RUN = re.compile(r"\w+")
_LATIN = re.compile(r"[A-Za-z]")


def decode_entities(text: str) -> str:
    """Decode HTML entities still in the text, once more: "Hội nghị&nbsp;tổng kết" → NBSP.

    Extraction decodes each entity once; a page that escaped "&nbsp;" as "&amp;nbsp;"
    leaves "&nbsp;" behind. Only whole entities are decoded, so "R&D" and "KH&ĐT" stay.
    """
    if "&" not in text:
        return text
    # "&amp;nbsp;" → NBSP (twice escaped); "&amp;" alone → "&" (its name is "amp")
    return _ENTITY.sub(lambda m: html.unescape(f"&{m.group('name')};"), text)


def fold_lookalikes(text: str) -> str:
    """Fold look-alike letters to the Vietnamese ones (``data/lookalikes.tsv``), then NFC.

    "NÐ-CP" (Latin eth) → "NĐ-CP"; "Sơn" with a Cyrillic "о" + U+031B + U+0302 → "Sơn"
    composed. Cyrillic or Greek text without Latin letters ("Москва") is left alone.
    """
    table, anything, always, others = _lookalikes()
    if text.isascii() or anything.search(text) is None:
        # Nearly every sentence: one scan, nothing to fold
        return text
    folded = always.sub(lambda m: table[m.group()], text)
    if others.search(folded) is not None:
        # Only words that hold a Latin letter too; each word is looked at once (linear).
        folded = _WORD_RUN.sub(lambda m: _fold_word(m.group(), table, others), folded)
    return unicodedata.normalize("NFC", folded) if folded != text else text


def _fold_word(word: str, table: dict[str, str], others: re.Pattern[str]) -> str:
    """``word`` with its Cyrillic or Greek look-alikes folded, if it has a Latin letter."""
    if others.search(word) is None or _LATIN.search(word) is None:
        return word
    return "".join(table.get(c, c) for c in word)


def space_after_date_word(text: str) -> str:
    """Put a space between a date word and its number: "tháng8/1945" → "tháng 8/1945"."""
    return _DATE_WORD.sub(r"\1 ", text)
