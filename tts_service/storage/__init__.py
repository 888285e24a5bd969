"""Where audio bytes live, chosen by URL: a local directory or an S3-compatible bucket.

:func:`open_blob_store` is the one factory: ``file://<dir>`` gives a
:class:`~tts_service.storage.file.FileBlobStore`, ``s3://bucket/prefix`` an
:class:`~tts_service.storage.s3.S3BlobStore`. Everything above takes the store, never the
URL (docs/cluster.md, section 1.2).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from tts_service.settings import Settings
from tts_service.storage.file import FileBlobStore
from tts_service.storage.ports import BlobRange, BlobStore, check_key

__all__ = [
    "BlobRange",
    "BlobStore",
    "FileBlobStore",
    "check_key",
    "open_blob_store",
    "store_from_settings",
]


def open_blob_store(
    url: str,
    *,
    s3_endpoint_url: str | None = None,
    public_base_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
) -> BlobStore:
    """The store a ``TTS_STORAGE_URL`` names.

    Args:
        url: ``file:///abs/dir``, ``file://relative/dir`` (as written, relative to the
            working directory, like ``TTS_CACHE_DIR``) or ``s3://bucket[/prefix]``.
        s3_endpoint_url: the S3 API of a store other than AWS (``TTS_S3_ENDPOINT_URL``).
        public_base_url: where the store's objects are served publicly
            (``TTS_AUDIO_PUBLIC_URL``).
        access_key, secret_key, region: S3 credentials; ``None`` = the environment's
            (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``) or
            the instance's role.

    Raises:
        ValueError: the scheme is not ``file`` or ``s3``, or the URL lacks its path or
            bucket.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        # file:///srv/a → /srv/a; file://audio_cache → audio_cache (a relative directory).
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise ValueError(f"TTS_STORAGE_URL {url!r} names no directory")
        return FileBlobStore(Path(path), public_base_url=public_base_url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"TTS_STORAGE_URL {url!r} names no bucket (s3://bucket/prefix)")
        from tts_service.storage.s3 import S3BlobStore

        return S3BlobStore(
            parts.netloc,
            parts.path.strip("/"),
            endpoint_url=s3_endpoint_url,
            public_base_url=public_base_url,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
        )
    raise ValueError(
        f"TTS_STORAGE_URL {url!r}: the scheme must be file:// (a directory) or s3:// (a bucket)"
    )


def store_from_settings(settings: Settings) -> BlobStore:
    """The store the settings name (``TTS_STORAGE_URL``, default the cache directory)."""
    return open_blob_store(
        settings.storage_location,
        s3_endpoint_url=settings.s3_endpoint_url,
        public_base_url=settings.audio_public_url,
    )
