"""Every setting is documented in docs/settings.md, by its environment variable."""

from __future__ import annotations

from pathlib import Path

from tts_service.settings import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_has_a_row_in_the_settings_page():
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`TTS_{name.upper()}`" not in text]
    assert missing == []
