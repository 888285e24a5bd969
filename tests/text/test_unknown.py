"""Tokens the normaliser could only spell or leave as written (tts_service/text/unknown.py)."""

from __future__ import annotations

from tts_service.text.pipeline import normalize
from tts_service.text.unknown import count_unknown, find_unknown


def test_spelled_and_unread_tokens_are_found_with_their_spans() -> None:
    text = "Sở cấp QXZ cho dân. Ứng dụng eKYC; X.Ư, GDP tăng, UBND họp."
    found = find_unknown(normalize(text))
    assert [(u.token, u.spoken) for u in found] == [("QXZ", "quy ích dét"), ("X.Ư", None)]
    assert [text[u.start : u.end] for u in found] == ["QXZ", "X.Ư,"]
    assert found[1].sentence == "Ứng dụng eKYC; X.Ư, GDP tăng, UBND họp."


def test_words_read_by_a_rule_or_spelled_on_purpose_are_not_listed() -> None:
    # UBND (lexicon), VTV and F0 (spelled.tsv), Covid-19 (said as a word), a date, a name
    text = "UBND và VTV đưa tin bệnh nhân F0 mắc Covid-19 ngày 9/7, ông Nguyễn Văn A."
    assert find_unknown(normalize(text)) == []


def test_counts_over_documents_most_frequent_first() -> None:
    documents = [normalize("QXZ và SmartGov. Lại QXZ."), normalize("SmartGov, QXZ và KQW.")]
    counted = [(c.token, c.count) for c in count_unknown(documents)]
    assert counted == [("QXZ", 3), ("SmartGov", 2), ("KQW", 1)]


def test_mixed_case_words_are_listed_only_when_guessed() -> None:
    # IoT is in data/mixed_case.tsv; mRNA is a guess, which editors should confirm
    found = find_unknown(normalize("Ứng dụng IoT và vắc xin mRNA."))
    assert [(u.token, u.spoken) for u in found] == [("mRNA", "em mờ e rờ en nờ a")]
