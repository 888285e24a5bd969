"""All numeric rules in one tuple, for the pipeline to register in one line.

Priorities (lower runs first; every numeric rule but ``per`` is ≥ 200 so legal codes,
URLs and abbreviations claimed by other modules win; ``per`` must claim the "/HTX" of
"đồng/HTX" before the abbreviation rule does):

=====  =====================  ==========================================
35     per                    the "/kg" of 25.000 đồng/kg, 7,2%/năm
200    phone                  0912 345 678, +84 …, (0205) 3812 345
201    phone_service          tổng đài 1022, gọi 115
205    date_quarter           Quý II/2021, quý 3/2021 (:mod:`.date`, :mod:`.date_range`)
206    date_span              30/6 - 2/7/2021
207    date_day_range         ngày 8-9/7, từ 8 đến 10/7
208    date                   09/7/2021, 9-7-2021, 09.7.2021
209    date_month_range       tháng 7-8/2021
210    date_month_year        tháng 7/2021, 7/2021
211    date_day_month         ngày 09/7, Sáng 9/7
212    date_month             tháng 4
213    date_year              năm 2021, năm 2021-2025
220    time                   14h30, 14:30, 8 giờ 15
230    money                  12.500.000đ, 3,5 triệu đồng, $100
231    money_code             VNĐ
240    measure                12,5%, 35°C, 100 km/h
245    ordinal                thứ 2, hạng 1
249    range_years            2021-22
250    range                  2015 - 2020
260    fraction               4/63, 1:2
270    cardinal_long_digits   00123456
280    cardinal_decimal       12,5, -0,5
285    cardinal_point         4.0
290    cardinal               1.250.000, 1 000 000, 2021, -5
=====  =====================  ==========================================
"""

from __future__ import annotations

from tts_service.text.rules import (
    cardinal,
    date,
    fraction,
    measure,
    money,
    ordinal,
    per,
    phone,
    ranges,
    time,
)
from tts_service.text.rules.base import Rule

__all__ = ["RULES", "UNIT_TOKENS"]

#: Written units and currencies (``USD``, ``VNĐ``, ``GB``, ``MW``, ``km``, …). After a
#: number they belong to the money and measure rules: a rule running earlier, such as
#: acronym spelling, should leave a token of this set alone when a digit precedes it.
UNIT_TOKENS: frozenset[str] = frozenset(measure.UNITS) | frozenset(money.CURRENCIES)

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            *per.RULES,
            *phone.RULES,
            *date.RULES,
            *time.RULES,
            *money.RULES,
            *measure.RULES,
            *ordinal.RULES,
            *ranges.RULES,
            *fraction.RULES,
            *cardinal.RULES,
        ),
        key=lambda rule: rule.priority,
    )
)
