"""The default cleaning policy: which steps run, in which order.

Order matters: NFC first, because the other steps and every lexicon are written in
composed characters; invisible characters go before spaces are normalised, so
"công\u200b chức" does not keep two spaces; tone marks are moved once the letters are
composed; the missing space after a comma is added before runs of spaces are collapsed.
"""

from __future__ import annotations

from collections.abc import Callable

from tts_service.text import clean

__all__ = ["DEFAULT_STEPS", "Step"]

#: A cleaning step: text in, text out, no other effect.
Step = Callable[[str], str]

DEFAULT_STEPS: tuple[Step, ...] = (
    clean.nfc,
    clean.remove_control_chars,
    clean.normalize_spaces,
    clean.normalize_tone_marks,
    clean.space_after_comma,
    clean.collapse_spaces,
)
