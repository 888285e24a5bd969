"""The default cleaning policy: which steps run, in which order.

Order matters: NFC first, because the other steps and every lexicon are written in
composed characters; invisible characters go before spaces are normalised, so
"công\u200b chức" does not keep two spaces; tone marks are moved once the letters are
composed; the missing space after a comma is added before runs of spaces are collapsed.
Entities left by a twice-escaped page and look-alike letters ("NÐ-CP" with a Latin eth)
are fixed right after NFC, before anything looks at letters (:mod:`.fold`).
"""

from __future__ import annotations

from collections.abc import Callable

from tts_service.text import clean, fold

__all__ = ["DEFAULT_STEPS", "Step"]

#: A cleaning step: text in, text out, no other effect.
Step = Callable[[str], str]

DEFAULT_STEPS: tuple[Step, ...] = (
    clean.nfc,
    fold.decode_entities,
    fold.fold_lookalikes,
    clean.remove_control_chars,
    clean.normalize_spaces,
    clean.normalize_tone_marks,
    clean.space_after_comma,
    fold.space_after_date_word,
    clean.collapse_spaces,
)
