"""The registry of normaliser rules: every module's ``RULES``, in one priority order.

Priorities (lower runs first, and a span claimed first is never re-read):

=====  ==============================================================================
5      list_marker (:mod:`.structure`): "1/", "2)", "a)" opening a sentence
10–12  url, email, hashtag (:mod:`.url`)
13     domain_word (:mod:`.structure`): tên miền .vn
20–22  legal_code (:mod:`.legal_code`): 15/2021/NĐ-CP, 35-NQ/TW, Nghị định 15/2021
23     legal_code (:mod:`.party_code`): 532 - TB/TU, with a spaced dash
30     plate (:mod:`.plate`): 30A-123.45, BS 12F1-3456
35     per (:mod:`.per`, registered with the numeric rules): the "/kg" of 25.000 đồng/kg
38     road (:mod:`.road`): QL1A, ĐT.226, Km 15
38     initials (:mod:`.structure`): N.V.K.
40     abbreviation (:mod:`.abbreviation`): UBND, TP.HCM, công ty CP
60–61  roman, roman_heading (:mod:`.roman`): lần thứ XVI, "II." headings
69     mixed_case (:mod:`.mixed_case`): IoT, 5G, eKYC from data/mixed_case.tsv
70–75  acronym_word, acronym_number (:mod:`.acronym`): Covid-19, F0, U23
190–4  date_news_* (:mod:`.date_news`): Chiều 13-9, từ 3 - 9.5, 14-20.2.2018
199    ratio (:mod:`.ratio`): 540 tỷ/1.200 tỷ, 1.023/1.150
200+   numeric rules (:mod:`.numeric`): phone, dates, times, money, measures, … cardinal
295    roman_bare (:mod:`.roman`): XVI with no context word
296    capitals (:mod:`.acronym`): QUYẾT ĐỊNH, TIN TỨC
297    acronym (:mod:`.acronym`): PDF, GDP
298    measure (:mod:`.mixed_case`): a mixed-case unit alone, "mỗi kWh"
299    mixed_case_guess (:mod:`.mixed_case`): ChatGPT, mRNA, SmartCity
900    symbol (:mod:`.symbol`): &, %, ~, +
950    stray_symbol (:mod:`.stray_symbol`): any / _ | # * ~ ^ left, dropped
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
    date_news,
    legal_code,
    mixed_case,
    numeric,
    party_code,
    plate,
    ratio,
    road,
    roman,
    stray_symbol,
    structure,
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
        *party_code.RULES,
        *plate.RULES,
        *road.RULES,
        *reading,
        *roman.RULES,
        *acronym.RULES,
        *mixed_case.RULES,
        *numeric.RULES,
        *symbol.RULES,
        *structure.RULES,
        *date_news.RULES,
        *ratio.RULES,
        *stray_symbol.RULES,
    )
    return tuple(sorted(rules, key=lambda rule: rule.priority))
