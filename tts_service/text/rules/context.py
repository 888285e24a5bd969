"""The text next to a match, found without rescanning the sentence from its start.

Rules decide by context: the "(" before "9/7", the word before "TIN" in "BẢN TIN", the
"tỷ lệ" before "1:50". Slicing ``text[:match.start()]`` and searching it costs the whole
sentence for every match, so 20,000 capitalised words took minutes; these helpers only
walk over the gap and the word they return, which keeps a rule linear in total.

"Space" and "word character" mean what ``\\s`` and ``\\w`` mean in :mod:`re`.
"""

from __future__ import annotations

__all__ = ["char_after", "char_before", "text_before", "word_after", "word_before"]


def _is_word(char: str) -> bool:
    """``\\w`` of :mod:`re` on ``str``: letters, digits (any script) and "_"."""
    return char.isalnum() or char == "_"


def _skip_spaces_back(text: str, at: int) -> int:
    while at > 0 and text[at - 1].isspace():
        at -= 1
    return at


def char_before(text: str, at: int) -> str:
    """The last non-space character before ``at``, or "": ``text[:at].rstrip()[-1:]``."""
    at = _skip_spaces_back(text, at)
    return text[at - 1] if at else ""


def char_after(text: str, at: int) -> str:
    """The first non-space character from ``at`` on, or "": ``text[at:].lstrip()[:1]``."""
    while at < len(text) and text[at].isspace():
        at += 1
    return text[at] if at < len(text) else ""


def text_before(text: str, at: int, width: int) -> str:
    """At most ``width`` characters ending at the last non-space before ``at``.

    ``text_before(t, i, w).endswith(x)`` equals ``t[:i].rstrip().endswith(x)`` for any
    ``x`` of at most ``w`` characters: "tỷ lệ 1:50" has "tỷ lệ" before "1:50".
    """
    end = _skip_spaces_back(text, at)
    return text[max(0, end - width) : end]


def word_before(text: str, at: int) -> str | None:
    """The last word before ``at`` past any non-word characters, as ``([\\w&]+)\\W*$`` finds it.

    "BAN TỔ CHỨC": before "TỔ" it is "BAN"; a trailing "&" stays on the word ("KH&").
    """
    last = at
    while last > 0 and not _is_word(text[last - 1]):
        last -= 1
    if last == 0:
        # No word character: the regex still matches the first run of "&", if any.
        return _amp_run_before(text, at)
    start = last - 1
    while start > 0 and (_is_word(text[start - 1]) or text[start - 1] == "&"):
        start -= 1
    end = last
    while end < at and text[end] == "&":
        end += 1
    return text[start:end]


def _amp_run_before(text: str, at: int) -> str | None:
    """The regex's answer when ``text[:at]`` has no word character: its first run of "&"."""
    index = text.find("&", 0, at)
    if index < 0:
        return None
    end = index
    while end < at and text[end] == "&":
        end += 1
    return text[index:end]


def word_after(text: str, at: int) -> str | None:
    """The first word from ``at`` on, past any non-word characters, as ``^\\W*([\\w&]+)`` finds it.

    "BAN TỔ CHỨC": after "BAN" it is "TỔ".
    """
    start = at
    while start < len(text) and not _is_word(text[start]):
        start += 1
    if start == len(text):
        # No word character: the regex gives back the last "&" it skipped, if any.
        return "&" if "&" in text[at:] else None
    end = start
    while end < len(text) and (_is_word(text[end]) or text[end] == "&"):
        end += 1
    return text[start:end]
