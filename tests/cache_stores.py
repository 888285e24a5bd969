"""The audio cache's suites run on both stores: its directory, and a bucket in SeaweedFS.

``stores`` (a fixture of tests/conftest.py, parametrised ``file`` / ``s3``) opens the store
a cache directory's audio lives in: the directory itself, or a prefix of the test's own in
the real SeaweedFS of tests/infra. The same directory always gets the same prefix, so a
cache reopened (a restart, a second process) sees the same objects.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.infra.seaweed import S3Location
from tts_service.cache import AudioCache
from tts_service.errors import CacheError
from tts_service.storage import BlobStore, FileBlobStore, open_blob_store

__all__ = ["Stores"]


@dataclass
class Stores:
    """One kind of store for a test: ``name`` is ``file`` or ``s3``."""

    name: str
    location: S3Location | None = None

    def url(self, root: Path) -> str:
        """The ``TTS_STORAGE_URL`` of the store behind cache directory ``root``."""
        if self.location is None:
            return f"file://{root}"
        tag = hashlib.sha256(str(root).encode()).hexdigest()[:10]
        return f"{self.location.url}/{tag}"

    def env(self) -> dict[str, str]:
        """What a child process needs in its environment to reach the store."""
        if self.location is None:
            return dict(os.environ)
        return {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.location.access_key,
            "AWS_SECRET_ACCESS_KEY": self.location.secret_key,
            "AWS_DEFAULT_REGION": self.location.region,
            "TTS_S3_ENDPOINT_URL": self.location.endpoint_url,
        }

    def settings(self, root: Path) -> dict[str, Any]:
        """Settings fields that put a service's audio in this store (with :meth:`env`)."""
        if self.location is None:
            return {}
        return {"storage_url": self.url(root), "s3_endpoint_url": self.location.endpoint_url}

    def open(self, root: Path, *, public_base_url: str | None = None) -> BlobStore:
        """The store the audio of cache directory ``root`` lives in."""
        if self.location is None:
            return FileBlobStore(root, public_base_url=public_base_url)
        return open_blob_store(
            self.url(root),
            s3_endpoint_url=self.location.endpoint_url,
            public_base_url=public_base_url,
            access_key=self.location.access_key,
            secret_key=self.location.secret_key,
            region=self.location.region,
        )

    def cache(self, root: Path, **options: Any) -> AudioCache:
        """An :class:`AudioCache` over ``root`` with its audio in this store."""
        return AudioCache(root, store=self.open(root), **options)

    def keys(self, root: Path, prefix: str = "") -> list[str]:
        """The objects stored for cache directory ``root`` (audio only: chunks, articles)."""
        found = self.open(root).list(prefix)
        return [key for key in found if key.startswith(("chunks/", "articles/"))]

    def fail_puts(self, cache: AudioCache, monkeypatch: Any, when: Callable[[str], None]) -> None:
        """Call ``when(key)`` before each object ``cache`` stores; it raises to fail it.

        The file store is failed where the disk would fail it (``os.replace``, after the
        bytes were written to ``tmp/``); S3 at its ``put_atomic``, before the PUT.
        """
        if self.location is None:
            real_replace = os.replace

            def replace(src: Any, dst: Any) -> None:
                when(Path(dst).relative_to(cache.root).as_posix())
                real_replace(src, dst)

            monkeypatch.setattr(os, "replace", replace)
            return
        store = cache.store
        real_put = store.put_atomic

        def put_atomic(key: str, data: Any) -> int:
            try:
                when(key)
            except OSError as exc:  # as the store translates its failures
                raise CacheError(f"cannot write {key}: {exc}") from exc
            return real_put(key, data)

        monkeypatch.setattr(store, "put_atomic", put_atomic)
