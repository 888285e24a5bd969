"""TTS_STORAGE_URL picks the store, once, in one factory."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tts_service.settings import Settings
from tts_service.storage import FileBlobStore, open_blob_store, store_from_settings
from tts_service.storage.s3 import S3BlobStore


def test_file_url_with_an_absolute_path(tmp_path):
    store = open_blob_store(f"file://{tmp_path}/audio")
    assert isinstance(store, FileBlobStore)
    assert store.root == tmp_path / "audio"


def test_file_url_with_a_relative_path_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_blob_store("file://audio_cache")
    assert isinstance(store, FileBlobStore)
    assert store.root == tmp_path / "audio_cache"


def test_s3_url_names_bucket_and_prefix():
    store = open_blob_store(
        "s3://tts-audio/portal/vn/",
        s3_endpoint_url="http://127.0.0.1:9",
        access_key="a",
        secret_key="b",
        region="us-east-1",
    )
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix, store.url) == (
        "tts-audio",
        "portal/vn",
        "s3://tts-audio/portal/vn",
    )
    store.close()


@pytest.mark.parametrize("url", ["ftp://host/x", "s3:///prefix-only", "file://", "/plain/path"])
def test_unusable_urls_are_refused(url):
    with pytest.raises(ValueError, match="TTS_STORAGE_URL"):
        open_blob_store(url)


def test_default_is_the_cache_directory(tmp_path):
    settings = Settings(cache_dir=tmp_path / "cache")
    assert settings.storage_location == f"file://{tmp_path}/cache"
    store = store_from_settings(settings)
    assert isinstance(store, FileBlobStore)
    assert store.root == tmp_path / "cache"


def test_default_with_the_default_cache_dir():
    assert Settings().storage_location == "file://audio_cache"


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("TTS_STORAGE_URL", "s3://bucket/p")
    monkeypatch.setenv("TTS_S3_ENDPOINT_URL", "http://127.0.0.1:8333")
    monkeypatch.setenv("TTS_AUDIO_PUBLIC_URL", "https://cdn.example.vn/a")
    monkeypatch.setenv("TTS_DATABASE_URL", "postgresql+psycopg://tts@db:5432/tts")
    settings = Settings()
    assert (
        settings.storage_location,
        settings.s3_endpoint_url,
        settings.audio_public_url,
        settings.audio_url_ttl_s,
        settings.database_url,
    ) == (
        "s3://bucket/p",
        "http://127.0.0.1:8333",
        "https://cdn.example.vn/a",
        3600,
        "postgresql+psycopg://tts@db:5432/tts",
    )


def test_a_bad_storage_url_fails_at_start_up():
    with pytest.raises(ValidationError, match="TTS_STORAGE_URL must start with file:// or s3://"):
        Settings(storage_url="gs://bucket")
