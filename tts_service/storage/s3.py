"""The S3 store: objects in a bucket of any S3-compatible service (AWS, SeaweedFS, MinIO…).

``s3://bucket/prefix`` keeps ``chunks/ab/<hash>.mp3`` as the object
``prefix/chunks/ab/<hash>.mp3``. ``TTS_S3_ENDPOINT_URL`` points at a store other than
AWS; credentials and region come from the standard ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` and ``AWS_DEFAULT_REGION`` variables (or an instance role).

S3 makes an object visible only once its upload is complete, so ``PutObject`` is already
atomic; the request is signed over the body's SHA-256, so a body cut short in transit is
refused rather than stored.

The client is obstore (Rust's ``object_store``), chosen by measurement against boto3
(``bench/bench_blobstore.py``, figures in ``docs/cluster.md``): about a tenth of boto3's
CPU time per request (0.2 ms against 2.7 ms for a 20 KB chunk), which on a 2-core machine
is what bounds audio served through Python. It is thread safe and releases the GIL while
it waits; one store serves every thread of the process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from tts_service.errors import CacheError
from tts_service.storage.ports import BlobRange, check_key

if TYPE_CHECKING:
    from obstore import BytesStream, GetOptions
    from obstore.store import S3Store

__all__ = ["S3BlobStore"]

logger = logging.getLogger(__name__)

# Pieces a range is streamed in (an HTTP response's writes).
_PIECE = 64 * 1024


class S3BlobStore:
    """A :class:`~tts_service.storage.ports.BlobStore` over one bucket and key prefix.

    Args:
        bucket: the bucket (it must exist: creating buckets is the operator's job).
        prefix: prepended to every key, without slashes at its ends ("" for none).
        endpoint_url: the S3 API of a non-AWS store; ``None`` for AWS. ``http://``
            endpoints are allowed (a store on the same private network or loopback).
        public_base_url: where the bucket (at ``prefix``) is served publicly, e.g. a CDN;
            without it, :meth:`public_url` presigns.
        access_key, secret_key, region: explicit credentials; ``None`` = the ``AWS_*``
            environment variables or the instance's role.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        public_base_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
    ) -> None:
        from obstore.store import S3Store

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        explicit = {
            "access_key_id": access_key,
            "secret_access_key": secret_key,
            "region": region,
            "endpoint": endpoint_url,
        }
        try:
            self._store: S3Store = S3Store(
                bucket,
                # Path style works with every S3-compatible store; AWS accepts it too.
                virtual_hosted_style_request=False,
                client_options={
                    "allow_http": True,
                    "connect_timeout": timedelta(seconds=5),
                    "timeout": timedelta(seconds=30),
                },
                retry_config={
                    "max_retries": 2,
                    "retry_timeout": timedelta(seconds=20),
                    "backoff": {
                        "init_backoff": timedelta(milliseconds=100),
                        "max_backoff": timedelta(seconds=2),
                        "base": 2,
                    },
                },
                **{k: v for k, v in explicit.items() if v is not None},  # type: ignore[arg-type]
            )
        except Exception as exc:  # obstore raises its own errors for a bad configuration
            raise CacheError(f"cannot open the audio store {self.url}: {exc}") from exc

    # -- keys and errors ---------------------------------------------------------------

    def _path(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _error(self, action: str, key: str, exc: Exception) -> CacheError:
        # obstore's messages carry a multi-line debug dump: its first line says it all.
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        return CacheError(f"cannot {action} {key} in the audio store {self.url}: {reason}")

    # -- the port ----------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        path = self._path(key)
        try:
            return bytes(obstore.get(self._store, path).bytes())
        except (NotFoundError, FileNotFoundError):
            return None
        except (BaseError, OSError) as exc:
            raise self._error("read", key, exc) from exc

    def put_atomic(self, key: str, data: bytes | Iterable[bytes]) -> int:
        import obstore
        from obstore.exceptions import BaseError

        path = self._path(key)
        # Parts are joined into one PutObject: an article is at most a few MB (an hour at
        # 32 kbit/s is 14 MB), and a single PUT leaves nothing behind when it fails, where
        # an abandoned multipart upload lingers hidden in the bucket.
        body = bytes(data) if isinstance(data, bytes | bytearray) else b"".join(data)
        try:
            obstore.put(self._store, path, body, use_multipart=False)
        except (BaseError, OSError) as exc:
            raise self._error("write", key, exc) from exc
        return len(body)

    def open_range(self, key: str, offset: int = 0, length: int | None = None) -> BlobRange | None:
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        if offset < 0 or (length is not None and length < 0):
            raise ValueError(f"bad range: offset {offset}, length {length}")
        path = self._path(key)
        if length == 0:
            return self._empty_range(key, offset)
        options: GetOptions = (
            {"range": (offset, offset + length)}
            if length is not None
            else {"range": {"offset": offset}}
        )
        try:
            answer = obstore.get(self._store, path, options=options)
        except (NotFoundError, FileNotFoundError):
            return None
        except (BaseError, OSError) as exc:
            # S3 answers 416 to a range starting at or past the end: an empty range then.
            empty = self._empty_range(key, offset)
            if empty is None or empty.total <= offset:
                return empty
            raise self._error("read", key, exc) from exc
        start, stop = answer.range
        reader = _StreamReader(answer.stream(min_chunk_size=_PIECE))
        return BlobRange(reader, offset=start, length=stop - start, total=answer.meta["size"])

    def _empty_range(self, key: str, offset: int) -> BlobRange | None:
        total = self.size(key)
        if total is None:
            return None
        return BlobRange(_StreamReader(iter(())), offset=min(offset, total), length=0, total=total)

    def size(self, key: str) -> int | None:
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        path = self._path(key)
        try:
            return int(obstore.head(self._store, path)["size"])
        except (NotFoundError, FileNotFoundError):
            return None
        except (BaseError, OSError) as exc:
            raise self._error("look up", key, exc) from exc

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        path = self._path(key)
        try:
            obstore.delete(self._store, path)
        except (NotFoundError, FileNotFoundError):
            return
        except (BaseError, OSError) as exc:
            raise self._error("delete", key, exc) from exc

    def list(self, prefix: str = "") -> Iterator[str]:
        import obstore
        from obstore.exceptions import BaseError

        base = f"{self.prefix}/" if self.prefix else ""
        # object_store lists by directory ("chunks/a" would mean chunks/a/): ask for the
        # directory the prefix is in, keep the keys that start with it. S3 returns keys
        # in lexicographic order.
        directory = base + prefix.rsplit("/", 1)[0] if "/" in prefix else base.rstrip("/")
        try:
            for batch in obstore.list(self._store, directory or None, chunk_size=1000):
                for meta in batch:
                    key = meta["path"][len(base) :]
                    if key.startswith(prefix):
                        yield key
        except (BaseError, OSError) as exc:
            raise self._error("list", prefix or "/", exc) from exc

    def public_url(self, key: str, *, expires_s: int) -> str:
        import obstore
        from obstore.exceptions import BaseError

        path = self._path(key)
        if self.public_base_url is not None:
            return f"{self.public_base_url}/{key}"
        try:
            return obstore.sign(self._store, "GET", path, timedelta(seconds=expires_s))
        except (BaseError, OSError) as exc:
            raise self._error("sign a URL for", key, exc) from exc

    def close(self) -> None:
        """Nothing to release: connections are pooled and closed with the process."""


class _StreamReader:
    """``read(size)`` over obstore's stream of byte pieces, for :class:`BlobRange`."""

    def __init__(self, stream: BytesStream | Iterator[bytes]) -> None:
        self._stream = stream
        self._buffer = b""

    def read(self, size: int = -1, /) -> bytes:
        from obstore.exceptions import BaseError

        try:
            while size < 0 or len(self._buffer) < size:
                piece = next(self._stream, None)
                if piece is None:
                    break
                self._buffer += bytes(piece)
        except BaseError as exc:
            raise OSError(f"the audio store's answer broke off: {exc}") from exc
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def close(self) -> None:
        self._stream = iter(())
        self._buffer = b""
