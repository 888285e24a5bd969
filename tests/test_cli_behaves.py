"""The command line reads from the cache first, and refuses bad input in one clear line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.helpers import decode_seconds
from tts_service.cli import main
from tts_service.testing import FakeGoogle, FaultPlan

TEXT = "Sáng nay, UBND tỉnh họp bàn kế hoạch năm 2025. Các sở báo cáo tiến độ."


@pytest.fixture
def google():
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture
def env(monkeypatch, tmp_path, google):
    monkeypatch.setenv("TTS_ENGINE", "gtts,espeak")
    monkeypatch.setenv("TTS_GTTS_BASE_URL", google.base_url)
    monkeypatch.setenv("TTS_GTTS_RETRIES", "1")
    monkeypatch.setenv("TTS_GTTS_BACKOFF_BASE_S", "0.001")
    monkeypatch.setenv("TTS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def synth(out):
    return CliRunner().invoke(main, ["synth", "-", "-o", str(out)], input=TEXT)


@pytest.mark.parametrize("down", [False, True], ids=["google read it", "the fallback read it"])
def test_synth_asks_no_engine_for_audio_already_made(env, google, down):
    if down:
        google.faults = FaultPlan(rate_5xx=1.0)
    first = synth(env / "1.mp3")
    assert first.exit_code == 0, first.output
    asked = len(google.requests)
    assert asked > 0
    google.faults = None

    second = synth(env / "2.mp3")
    assert second.exit_code == 0, second.output
    assert len(google.requests) == asked  # not one more request
    assert (env / "2.mp3").read_bytes() == (env / "1.mp3").read_bytes()
    engine = "espeak" if down else "gtts"
    seconds = decode_seconds((env / "2.mp3").read_bytes())
    assert second.output.strip().endswith(f"engine {engine}")
    assert f": {seconds:.1f} s," in second.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Error: Không có tệp '{path}' (no such file: {path}).\n"),
        (
            b"UBND t\xeenh",
            "Error: '{path}' không phải văn bản UTF-8, lỗi ở byte 6 "
            "({path} is not UTF-8 text; bad byte at offset 6).\n",
        ),
    ],
    ids=["missing", "not utf-8"],
)
@pytest.mark.parametrize("command", ["synth", "normalize"])
def test_unreadable_input_is_one_line_and_exit_code_2(tmp_path, command, content, message):
    path = tmp_path / "bai.txt"
    if content is not None:
        path.write_bytes(content)
    args = [command, str(path)] + (["-o", str(tmp_path / "x.mp3")] if command == "synth" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output == message.format(path=path)


def test_help_has_examples_in_both_languages():
    for args in ([], ["synth"], ["normalize"], ["pregenerate"]):
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0
        assert "Ví dụ (examples):" in result.output
        assert "tts-service " in result.output.split("Ví dụ (examples):")[1]
