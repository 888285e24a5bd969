"""Settings: key roles, refusals that never echo secrets, and aliases operators use."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tts_service.settings import Settings

SECRET_KEY = "s3cr3t-but-short"  # 16 characters: long enough
SHORT = "tiny-secret"


def test_a_key_is_a_cms_key_unless_it_says_admin():
    settings = Settings(
        api_keys=[
            {"name": "cms", "key": "a" * 16},
            {"name": "bientap", "key": "b" * 16, "role": "admin"},
        ]
    )
    assert [(k.name, k.role) for k in settings.api_keys] == [("cms", "cms"), ("bientap", "admin")]


def test_an_unknown_role_is_refused():
    with pytest.raises(ValidationError, match="role"):
        Settings(api_keys=[{"name": "cms", "key": "a" * 16, "role": "root"}])


def test_a_short_key_is_refused_by_name_and_never_printed(monkeypatch):
    monkeypatch.setenv(
        "TTS_API_KEYS",
        json.dumps([{"name": "cms", "key": SHORT, "webhook_secret": "whsec-never-print-me"}]),
    )
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = str(caught.value)
    assert "API key 'cms': a key needs at least 16 characters, this one has 11" in message
    assert SHORT not in message and "whsec-never-print-me" not in message


def test_no_setting_error_prints_the_value_it_refused(monkeypatch):
    monkeypatch.setenv("TTS_API_KEYS", json.dumps([{"name": "bad name!", "key": "k" * 40}]))
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "k" * 40 not in str(caught.value) and "bad name!" not in str(caught.value)


def test_keys_sharing_a_name_are_one_client():
    # Rotating a key: the new one is added under the same name, then the old one removed.
    rotating = Settings(
        api_keys=[
            {"name": "cms", "key": "old-" + "a" * 16},
            {"name": "cms", "key": "new-" + "b" * 16},
        ]
    )
    assert [k.name for k in rotating.api_keys] == ["cms", "cms"]
    with pytest.raises(ValidationError, match="API keys named 'cms' differ in role or webhook"):
        Settings(
            api_keys=[
                {"name": "cms", "key": "a" * 16},
                {"name": "cms", "key": "b" * 16, "role": "admin"},
            ]
        )


def test_one_key_cannot_belong_to_two_names():
    with pytest.raises(ValidationError, match="API keys 'cms' and 'admin' have the same key"):
        Settings(
            api_keys=[
                {"name": "cms", "key": SECRET_KEY},
                {"name": "admin", "key": SECRET_KEY, "role": "admin"},
            ]
        )


def test_an_api_key_of_16_characters_is_accepted():
    settings = Settings(api_keys=[{"name": "cms", "key": "0123456789abcdef"}])
    assert settings.api_keys[0].key.get_secret_value() == "0123456789abcdef"


def test_proxies_are_named_in_either_variable(monkeypatch):
    assert Settings().forwarded_allow_ips == ()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5, 10.0.0.6")
    assert Settings().forwarded_allow_ips == ("10.0.0.5", "10.0.0.6")
    monkeypatch.setenv("TTS_FORWARDED_ALLOW_IPS", "192.0.2.1")
    assert Settings().forwarded_allow_ips == ("192.0.2.1",)
