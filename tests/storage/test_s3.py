"""What only the S3 store does: credentials from the environment, an unreachable store."""

from __future__ import annotations

import socket

import pytest

from tts_service.errors import CacheError
from tts_service.settings import Settings
from tts_service.storage import store_from_settings
from tts_service.storage.s3 import S3BlobStore


def test_settings_and_aws_variables_reach_the_store(s3_location, monkeypatch):
    """TTS_STORAGE_URL + TTS_S3_ENDPOINT_URL + the standard AWS_* variables: a working store."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_location.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_location.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_location.region)
    settings = Settings(storage_url=s3_location.url, s3_endpoint_url=s3_location.endpoint_url)
    store = store_from_settings(settings)
    store.put_atomic("chunks/en/v.mp3", b"from the environment")
    assert store.get("chunks/en/v.mp3") == b"from the environment"
    assert list(store.list()) == ["chunks/en/v.mp3"]


def test_wrong_credentials_are_a_cache_error(s3_location):
    store = S3BlobStore(
        s3_location.bucket,
        s3_location.prefix,
        endpoint_url=s3_location.endpoint_url,
        access_key=s3_location.access_key,
        secret_key="not-the-secret",
        region=s3_location.region,
    )
    with pytest.raises(CacheError, match="cannot write chunks/ab/x.mp3 in the audio store"):
        store.put_atomic("chunks/ab/x.mp3", b"x")


def test_an_unreachable_store_is_a_cache_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more: every call is refused at once.
    store = S3BlobStore(
        "bucket",
        "p",
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key="a",
        secret_key="b",
        region="us-east-1",
    )
    with pytest.raises(CacheError, match="cannot read chunks/ab/x.mp3"):
        store.get("chunks/ab/x.mp3")
    with pytest.raises(CacheError, match="cannot write chunks/ab/x.mp3"):
        store.put_atomic("chunks/ab/x.mp3", b"x")
    with pytest.raises(CacheError, match="cannot list"):
        list(store.list("chunks/"))
