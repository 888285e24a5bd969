"""Settings: refusals name what is wrong without echoing secrets; aliases operators use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tts_service.settings import Settings

SHORT_KEY = "hunter2-secret"  # 14 characters: refused


def test_a_short_api_key_is_refused_by_name_never_shown(monkeypatch):
    monkeypatch.setenv(
        "TTS_API_KEYS",
        f'[{{"name": "cms-portal", "key": "{SHORT_KEY}", "webhook_url": "https://cms/hook",'
        ' "webhook_secret": "webhook-secret-value"}]',
    )
    with pytest.raises(ValidationError) as caught:
        Settings()
    shown = str(caught.value)
    assert "API key 'cms-portal': the key must be at least 16 characters long" in shown
    assert SHORT_KEY not in shown and "webhook-secret-value" not in shown


def test_an_api_key_of_16_characters_is_accepted():
    settings = Settings(api_keys=[{"name": "cms", "key": "0123456789abcdef"}])
    assert settings.api_keys[0].key.get_secret_value() == "0123456789abcdef"


def test_proxies_are_named_in_either_variable(monkeypatch):
    assert Settings().forwarded_allow_ips == ()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5, 10.0.0.6")
    assert Settings().forwarded_allow_ips == ("10.0.0.5", "10.0.0.6")
    monkeypatch.setenv("TTS_FORWARDED_ALLOW_IPS", "192.0.2.1")
    assert Settings().forwarded_allow_ips == ("192.0.2.1",)
