"""The abbreviation lexicons: built-in data quality, senses, site overrides."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tts_service.text.clean import normalize_tone_marks
from tts_service.text.data import load_tsv
from tts_service.text.lexicon import Lexicon

DATA_FILES = (
    "abbreviations.tsv",
    "abbreviation_senses.tsv",
    "legal/types.tsv",
    "legal/issuers.tsv",
    "letters.tsv",
    "read_as_word.tsv",
    "roman_context.tsv",
    "symbols.tsv",
    "tone_marks.tsv",
    "url_words.tsv",
    "road.tsv",
    "phone_context.tsv",
    "legal/type_words.tsv",
    "measure/per_word.tsv",
    "date/name_context.tsv",
    "date/lunar_month.tsv",
)


def test_builtin_lexicon_is_large_and_clean() -> None:
    lexicon = Lexicon.builtin()
    assert len(lexicon.entries) >= 250
    for written, reading in lexicon.entries.items():
        assert written == written.strip() and reading == reading.strip(), written
        assert unicodedata.is_normalized("NFC", reading), written
        # Modern tone placement everywhere: "Ủy", "Hòa", never "Uỷ", "Hoà".
        assert normalize_tone_marks(reading) == reading, reading
        assert "  " not in reading and "\t" not in reading, written


@pytest.mark.parametrize("name", DATA_FILES)
def test_data_files_have_no_duplicate_keys(name: str) -> None:
    if name == "abbreviation_senses.tsv":
        return  # one row per sense, by design
    keys = [row[0] for row in load_tsv(name)]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})


def test_senses_pick_by_context() -> None:
    lexicon = Lexicon.builtin()
    assert lexicon.read("CP", "Công ty ", " Xi măng") == "cổ phần"
    assert lexicon.read("CP", "Thủ tướng ", "") == "Chính phủ"
    assert lexicon.read("TT", "theo ", " 01/2020") == "thông tư"
    assert lexicon.read("TT", "", " Y tế") == "trung tâm"
    assert lexicon.read("CT", "", " UBND") == "Chủ tịch"
    assert lexicon.read("CT", "", " xyz") is None
    assert lexicon.read("CT", "", " TNHH Xổ số") == "công ty"
    # BTC: a Party committee's Organisation Commission, the Ministry near a circular,
    # otherwise the organisers of an event
    assert lexicon.read("BTC", "", " Tỉnh ủy") == "Ban Tổ chức"
    assert lexicon.read("BTC", "Thông tư 01/2020/TT-BTC của ", ", Sở") == "Bộ Tài chính"
    assert lexicon.read("BTC", "", " giải chạy") == "ban tổ chức"
    # a bare "tại" is no cue for a circular: "tại TT Y tế"
    assert lexicon.read("TT", "tại ", " Y tế") == "trung tâm"
    assert lexicon.read("UBND") == "Ủy ban nhân dân"
    assert lexicon.read("không có") is None


def test_dotted_prefixes() -> None:
    prefixes = Lexicon.builtin().dotted_prefixes()
    assert {"TP.", "TX.", "PGS.TS."} <= prefixes
    assert "v.v." not in prefixes


def test_site_lexicon_overrides_entries_and_senses(tmp_path: Path) -> None:
    path = tmp_path / "site.tsv"
    path.write_text("CP\tcổ phần\nSở NV\tSở Nội vụ\n", encoding="utf-8")
    lexicon = Lexicon.load(path)
    assert lexicon.read("CP", "Thủ tướng ", "") == "cổ phần"
    assert lexicon.read("Sở NV") == "Sở Nội vụ"
    assert lexicon.read("UBND") == "Ủy ban nhân dân"
    assert lexicon == Lexicon.load(path)
    assert hash(lexicon) == hash(Lexicon.load(path))
    assert lexicon != Lexicon.builtin()
    assert Lexicon.load(None) is Lexicon.builtin()


def test_site_lexicon_rejects_a_row_without_tab(tmp_path: Path) -> None:
    path = tmp_path / "site.tsv"
    path.write_text("# ok\nUBND Ủy ban\n", encoding="utf-8")
    with pytest.raises(ValueError, match="site.tsv:2"):
        Lexicon.load(path)


def test_site_entries_win_and_are_named_as_the_editors_rule(tmp_path):
    from tts_service.text.pipeline import normalize

    site = tmp_path / "site.tsv"
    site.write_text(
        "# our portal\nHTX\thợp tác xã\nUBND\tỦy ban nhân dân huyện\n", encoding="utf-8"
    )
    lexicon = Lexicon.load(site)
    document = normalize("HTX và UBND, Sở KH&ĐT.", lexicon=lexicon)
    assert document.spoken_text == "hợp tác xã và Ủy ban nhân dân huyện, Sở Kế hoạch và Đầu tư."
    rules = {r.source: r.rule for s in document.sentences for r in s.rewrites}
    assert rules == {"HTX": "site_lexicon", "UBND": "site_lexicon", "KH&ĐT": "abbreviation"}
