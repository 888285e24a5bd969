from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from tests.helpers import assert_whole_audio
from tests.registry.cms import AUTH, KEY, CountingEngine
from tts_service.cli import main
from tts_service.registry.store import ArticleStore


@pytest.fixture(autouse=True)
def own_cache_dir(tmp_path, monkeypatch):
    """Every command here uses a fresh cache: ``normalize`` reads the registry's lexicon, and
    the default ``audio_cache/`` of a developer's checkout may hold one."""
    monkeypatch.setenv("TTS_CACHE_DIR", str(tmp_path / "cache"))


def test_normalize_lines_gives_one_output_line_per_input_line():
    source = "UBND tỉnh họp ngày 09/7/2021.\n\nLần thứ XVI. Câu hai.\n"
    result = CliRunner().invoke(main, ["normalize", "--lines", "-"], input=source)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Ủy ban nhân dân tỉnh họp ngày chín tháng bảy")
    assert lines[1] == ""
    assert "lần thứ mười sáu" in lines[2].lower() and "Câu hai." in lines[2]


def test_normalize_explain_lists_rewrites_with_their_rules(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Văn phòng UBND tỉnh.", encoding="utf-8")
    result = CliRunner().invoke(main, ["normalize", "--explain", str(path)])
    assert result.exit_code == 0
    assert "Văn phòng Ủy ban nhân dân tỉnh." in result.output
    assert "'UBND' → 'Ủy ban nhân dân'" in result.output


def test_synth_writes_a_playable_mp3_and_timings(tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_ENGINE", "espeak")
    monkeypatch.setenv("TTS_CACHE_DIR", str(tmp_path / "cache"))
    out, vtt = tmp_path / "out.mp3", tmp_path / "out.vtt"
    result = CliRunner().invoke(
        main,
        ["synth", "-", "-o", str(out), "--vtt", str(vtt), "--title", "Thử"],
        input="Xin chào. Đây là bản tin thử nghiệm của Ủy ban nhân dân tỉnh.",
    )
    assert result.exit_code == 0, result.output
    (meta,) = (tmp_path / "cache" / "articles").glob("*/*.json")
    announced = json.loads(meta.read_text(encoding="utf-8"))["duration_s"]
    assert assert_whole_audio(out.read_bytes(), announced) > 1
    assert vtt.read_text().count(" --> ") == 2


def test_synth_refuses_empty_input_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_ENGINE", "espeak")
    monkeypatch.setenv("TTS_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(main, ["synth", "-", "-o", str(tmp_path / "x.mp3")], input="  ")
    assert result.exit_code != 0
    assert "trống" in result.output
    assert not (tmp_path / "x.mp3").exists()


def test_normalize_reads_with_the_lexicon_editors_manage(tmp_path, monkeypatch):
    site = tmp_path / "site.tsv"
    site.write_text("CĐS\tcông đoàn sở\n", encoding="utf-8")
    monkeypatch.setenv("TTS_SITE_LEXICON", str(site))
    monkeypatch.setenv("TTS_CACHE_DIR", str(tmp_path / "cache"))
    source = "Sở triển khai CĐS."

    # No registry yet: the file is the site lexicon, and no registry is created.
    result = CliRunner().invoke(main, ["normalize", "-"], input=source)
    assert result.exit_code == 0, result.output
    assert "công đoàn sở" in result.output
    registry = tmp_path / "cache" / "registry.sqlite3"
    assert not registry.exists()

    # Editors changed it through PUT /v1/lexicon: that is what listeners hear now.
    store = ArticleStore.open(registry)
    store.set_lexicon({"CĐS": "chuyển đổi số"})
    store.close()
    result = CliRunner().invoke(main, ["normalize", "-"], input=source)
    assert result.exit_code == 0, result.output
    assert "Sở triển khai chuyển đổi số." in result.output


def test_normalize_drops_what_editors_removed_from_the_seed_lexicon(tmp_path, monkeypatch):
    site = tmp_path / "site.tsv"
    site.write_text("CĐS\tcông đoàn sở\n", encoding="utf-8")
    monkeypatch.setenv("TTS_SITE_LEXICON", str(site))
    monkeypatch.setenv("TTS_REGISTRY_PATH", str(tmp_path / "elsewhere" / "registry.sqlite3"))
    store = ArticleStore.open(tmp_path / "elsewhere" / "registry.sqlite3")
    store.set_lexicon({})  # the seed was imported, then editors deleted its only entry
    store.close()
    for args in (["normalize", "-"], ["normalize", "--lines", "-"]):
        result = CliRunner().invoke(main, args, input="Sở triển khai CĐS.")
        assert result.exit_code == 0, result.output
        assert "công đoàn sở" not in result.output, args


def test_normalize_says_what_the_running_service_says(serve, make_service, monkeypatch):
    # The service and the command share one cache directory, hence one registry.
    # Only an admin key may change the site lexicon.
    service = make_service(
        CountingEngine(), api_keys=[{"name": "cms", "key": KEY, "role": "admin"}]
    )
    client = serve(service)
    changed = client.put(
        "/v1/lexicon",
        json={"entries": {"CĐS": "chuyển đổi số", "UBND": "uỷ ban"}},
        headers=AUTH,
    )
    assert changed.status_code == 200, changed.text
    source = "UBND tỉnh đẩy mạnh CĐS.\n\nCĐS là nhiệm vụ trọng tâm."
    preview = client.post("/v1/normalize", json={"text": source})
    assert preview.status_code == 200, preview.text
    heard = preview.json()["spoken_text"]
    assert "chuyển đổi số" in heard and "uỷ ban" in heard

    monkeypatch.setenv("TTS_CACHE_DIR", str(service.settings.cache_dir))
    result = CliRunner().invoke(main, ["normalize", "-"], input=source)
    assert result.exit_code == 0, result.output
    assert result.output == heard + "\n"


def test_normalize_refuses_a_registry_it_cannot_read(tmp_path):
    registry = tmp_path / "cache" / "registry.sqlite3"
    registry.parent.mkdir()
    db = sqlite3.connect(registry)
    # A registry written by a newer version of the service (before the migration runner,
    # the version was SQLite's user_version of a file holding the articles table).
    db.execute("CREATE TABLE articles (id TEXT PRIMARY KEY)")
    db.execute("PRAGMA user_version = 999")
    db.commit()
    db.close()
    result = CliRunner().invoke(main, ["normalize", "-"], input="Sở triển khai CĐS.")
    assert result.exit_code == 1
    assert "newer version" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


def test_normalize_unknown_counts_spelled_and_unread_tokens_over_files(tmp_path):
    one, two = tmp_path / "a.txt", tmp_path / "b.txt"
    one.write_text("Sở cấp giấy QXZ cho dân. UBND họp.", encoding="utf-8")
    two.write_text("Lại là QXZ. Ứng dụng X.Ư và VTV.", encoding="utf-8")
    result = CliRunner().invoke(main, ["normalize", "--unknown", str(one), str(two)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2\tQXZ\tquy ích dét\tSở cấp giấy QXZ cho dân.",
        "1\tX.Ư\t(as written)\tỨng dụng X.Ư và VTV.",
    ]
