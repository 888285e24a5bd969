"""The registry of normaliser rules: every module's ``RULES``, in one priority order.

Priorities (lower runs first, and a span claimed first is never re-read):

=====  ==============================================================================
10–12  url, email, hashtag (:mod:`.url`)
20–22  legal_code (:mod:`.legal_code`): 15/2021/NĐ-CP, 35-NQ/TW, Nghị định 15/2021
35     per (:mod:`.per`, registered with the numeric rules): the "/kg" of 25.000 đồng/kg
38     road (:mod:`.road`): QL1A, ĐT.226, Km 15
40     abbreviation (:mod:`.abbreviation`): UBND, TP.HCM, công ty CP
60–61  roman, roman_heading (:mod:`.roman`): lần thứ XVI, "II." headings
70–75  acronym_word, acronym_number (:mod:`.acronym`): Covid-19, F0, U23
200+   numeric rules (:mod:`.numeric`): phone, dates, times, money, measures, … cardinal
295    roman_bare (:mod:`.roman`): XVI with no context word
296    capitals (:mod:`.acronym`): QUYẾT ĐỊNH, TIN TỨC
297    acronym (:mod:`.acronym`): PDF, GDP
900    symbol (:mod:`.symbol`): &, %, ~, +
=====  ==============================================================================

Rules are collected on first use, so that a site lexicon can replace the built-in
abbreviation rule.
"""

from __future__ import annotations

from functools import lru_cache

from tts_service.text.lexicon import Lexicon
from tts_service.text.rules import (
    abbreviation,
    acronym,
    legal_code,
    numeric,
    road,
    roman,
    symbol,
    url,
)
from tts_service.text.rules.base import Rule

__all__ = ["registered_rules"]


@lru_cache(maxsize=8)
def registered_rules(lexicon: Lexicon | None = None) -> tuple[Rule, ...]:
    """Every rule, sorted by priority; abbreviations read with ``lexicon`` (default: built-in)."""
    reading = abbreviation.make_rules(lexicon) if lexicon is not None else abbreviation.RULES
    rules = (
        *url.RULES,
        *legal_code.RULES,
        *road.RULES,
        *reading,
        *roman.RULES,
        *acronym.RULES,
        *numeric.RULES,
        *symbol.RULES,
    )
    return tuple(sorted(rules, key=lambda rule: rule.priority))
