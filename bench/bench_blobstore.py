"""Benchmark the S3 clients for the audio store: boto3 against obstore, on SeaweedFS.

Issue 11 asks to pick the client by measurement. This starts a SeaweedFS on loopback
(``weed`` from the dev extra, as the tests do), then for each client, on MP3-sized
objects (a 20 KB chunk: five seconds at the house 32 kbit/s; a 2 MB article: about eight
minutes):

- ``put``: one object written, whole;
- ``get``: one object read, whole;
- ``range``: the first 64 KiB of an article (what a player's first Range request asks);

each measured one at a time (latency: median and 95th percentile) and by 8 threads at
once (objects a second, the way the service's lanes would use it). The file store is
measured too, for scale, and so is the service's ``S3BlobStore`` (the chosen client
behind the port).

    .venv/bin/python bench/bench_blobstore.py [--json bench/results/blobstore.json]

About a minute; everything is written under temporary directories and removed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.infra.seaweed import SeaweedServer  # noqa: E402
from tts_service.storage.file import FileBlobStore  # noqa: E402
from tts_service.storage.s3 import S3BlobStore  # noqa: E402

SIZES = {"chunk": 20_000, "article": 2_000_000}
RANGE = 64 * 1024
THREADS = 8


class Boto3Client:
    """boto3, configured as an S3 store would use it (path style, SigV4, Content-MD5)."""

    name = "boto3"

    def __init__(self, server: SeaweedServer, prefix: str) -> None:
        import boto3
        from botocore.config import Config

        where = server.location()
        self.bucket = where.bucket
        self.prefix = prefix
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=server.endpoint_url,
            aws_access_key_id=where.access_key,
            aws_secret_access_key=where.secret_key,
            region_name=where.region,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                max_pool_connections=THREADS * 2,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def put(self, key: str, data: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self.client.put_object(
            Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data, ContentMD5=md5
        )

    def get(self, key: str) -> bytes:
        answer = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
        return bytes(answer["Body"].read())

    def range(self, key: str, length: int) -> bytes:
        answer = self.client.get_object(
            Bucket=self.bucket, Key=f"{self.prefix}/{key}", Range=f"bytes=0-{length - 1}"
        )
        return bytes(answer["Body"].read())


class StoreClient:
    """The service's own S3BlobStore (obstore underneath), to show what the port adds."""

    name = "S3BlobStore"

    def __init__(self, server: SeaweedServer, prefix: str) -> None:
        where = server.location()
        self.store = S3BlobStore(
            where.bucket,
            prefix,
            endpoint_url=server.endpoint_url,
            access_key=where.access_key,
            secret_key=where.secret_key,
            region=where.region,
        )

    def put(self, key: str, data: bytes) -> None:
        self.store.put_atomic(key, data)

    def get(self, key: str) -> bytes:
        data = self.store.get(key)
        assert data is not None
        return data

    def range(self, key: str, length: int) -> bytes:
        part = self.store.open_range(key, 0, length)
        assert part is not None
        with part:
            return part.read()


class ObstoreClient:
    """obstore (Rust object_store), used the way an S3BlobStore would use it."""

    name = "obstore"

    def __init__(self, server: SeaweedServer, prefix: str) -> None:
        from obstore.store import S3Store

        where = server.location()
        self.prefix = prefix
        self.store = S3Store(
            where.bucket,
            endpoint=server.endpoint_url,
            access_key_id=where.access_key,
            secret_access_key=where.secret_key,
            region=where.region,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True},
        )

    def put(self, key: str, data: bytes) -> None:
        import obstore

        obstore.put(self.store, f"{self.prefix}/{key}", data)

    def get(self, key: str) -> bytes:
        import obstore

        return bytes(obstore.get(self.store, f"{self.prefix}/{key}").bytes())

    def range(self, key: str, length: int) -> bytes:
        import obstore

        return bytes(obstore.get_range(self.store, f"{self.prefix}/{key}", start=0, length=length))


class FileClient:
    """The file store (fsync and rename per write), for scale."""

    name = "file"

    def __init__(self, root: Path) -> None:
        self.store = FileBlobStore(root)

    def put(self, key: str, data: bytes) -> None:
        self.store.put_atomic(key, data)

    def get(self, key: str) -> bytes:
        data = self.store.get(key)
        assert data is not None
        return data

    def range(self, key: str, length: int) -> bytes:
        part = self.store.open_range(key, 0, length)
        assert part is not None
        with part:
            return part.read()


def latency(calls: list[Callable[[], object]]) -> dict[str, float]:
    """Median and 95th percentile of the calls, one at a time, in milliseconds.

    ``cpu_ms`` is this process's CPU time per call (the client's own work: signing,
    parsing, copying), which other load on the machine disturbs far less than wall time.
    The store runs on the same two cores, so wall times include its work too.
    """
    times = []
    cpu_start = time.process_time()
    for call in calls:
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    cpu = (time.process_time() - cpu_start) * 1000 / len(calls)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "cpu_ms": round(cpu, 2),
    }


def throughput(calls: list[Callable[[], object]]) -> float:
    """Calls a second with ``THREADS`` threads."""
    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()
    return round(len(calls) / (time.perf_counter() - start), 1)


def measure(client: Any, rounds: dict[str, int]) -> dict[str, Any]:
    """Latency and throughput of put/get for each size, and of the first-64-KiB range."""
    result: dict[str, Any] = {}
    for kind, size in SIZES.items():
        n = rounds[kind]
        payloads = [random.Random(i).randbytes(size) for i in range(n)]
        keys = [f"{kind}s/{i % 256:02x}/{client.name}-{i}.mp3" for i in range(n)]
        put_calls = [lambda k=k, d=d: client.put(k, d) for k, d in zip(keys, payloads, strict=True)]
        get_calls = [lambda k=k: client.get(k) for k in keys]
        result[f"put_{kind}"] = latency(put_calls)
        result[f"get_{kind}"] = latency(get_calls)
        # The same keys again, so every get hits.
        result[f"put_{kind}"]["per_s_8_threads"] = throughput(put_calls)
        result[f"get_{kind}"]["per_s_8_threads"] = throughput(get_calls)
        if kind == "article":
            range_calls = [lambda k=k: client.range(k, RANGE) for k in keys]
            result["range_64k"] = latency(range_calls)
            result["range_64k"]["per_s_8_threads"] = throughput(range_calls)
        # Each result must be the bytes written: a fast wrong answer is no answer.
        assert client.get(keys[-1]) == payloads[-1]
        assert client.range(keys[-1], 100) == payloads[-1][:100] if kind == "article" else True
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--chunks", type=int, default=300, help="chunk-sized objects per client")
    parser.add_argument("--articles", type=int, default=40, help="article-sized objects")
    args = parser.parse_args()
    rounds = {"chunk": args.chunks, "article": args.articles}
    server = SeaweedServer.start(volumes=48)
    figures: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clients: list[Any] = [
                Boto3Client(server, "bench-boto3"),
                ObstoreClient(server, "bench-obstore"),
                StoreClient(server, "bench-store"),
                FileClient(Path(tmp)),
            ]
            # A warm-up of each, so connection set-up is not in the first figure.
            for client in clients:
                client.put("warm/up", b"x")
                client.get("warm/up")
            # Alternate the two S3 clients by repeating the whole measure twice and keeping
            # the second: the store's own caches are then equally warm for both.
            for client in clients:
                measure(client, {"chunk": 30, "article": 5})
            for client in clients:
                figures[client.name] = measure(client, rounds)
    finally:
        server.stop()
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "store": "SeaweedFS (weed server -s3) on 127.0.0.1, same machine",
        "rounds": rounds,
        "threads": THREADS,
        "results": figures,
    }
    print(json.dumps(report, indent=2))  # noqa: T201 - the benchmark's output
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
