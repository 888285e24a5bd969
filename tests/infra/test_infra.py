"""The backend fixtures start real servers and leave nothing behind."""

from __future__ import annotations

import socket

import pytest

from tests.infra.postgres import PostgresServer
from tests.infra.seaweed import BUCKET, SeaweedServer


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_postgres_runs_queries_and_stops_cleanly():
    import psycopg

    server = PostgresServer.start()
    try:
        with psycopg.connect(server.dsn()) as conn:
            (version,) = conn.execute("SHOW server_version_num").fetchone()
            (listen,) = conn.execute("SHOW listen_addresses").fetchone()
        assert int(version) // 10000 == 15
        assert listen == "127.0.0.1"
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert refused(server.port)
    assert not server.root.exists()


def test_postgres_database_per_test_is_empty(postgres_url):
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_seaweed_serves_the_bucket(seaweed_server):
    client = seaweed_server.client()
    client.put_object(Bucket=BUCKET, Key="infra/x", Body=b"xin chao")
    assert client.get_object(Bucket=BUCKET, Key="infra/x")["Body"].read() == b"xin chao"
    client.delete_object(Bucket=BUCKET, Key="infra/x")


@pytest.mark.parametrize("secret", ["wrong-secret"])
def test_seaweed_checks_signatures(seaweed_server, secret):
    import boto3
    from botocore.exceptions import ClientError

    bad = boto3.client(
        "s3",
        endpoint_url=seaweed_server.endpoint_url,
        aws_access_key_id="tts-test-access",
        aws_secret_access_key=secret,
        region_name="us-east-1",
    )
    with pytest.raises(ClientError) as info:
        bad.list_objects_v2(Bucket=BUCKET)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_seaweed_stops_cleanly():
    server = SeaweedServer.start()
    server.stop()
    assert server.process.returncode is not None
    assert refused(server.s3_port)
    assert not server.root.exists()


def test_a_missing_backend_skips_outside_ci_and_fails_in_ci(monkeypatch):
    from tests.infra import common

    monkeypatch.setattr(common, "REQUIRED", False)
    with pytest.raises(pytest.skip.Exception, match="backend unavailable: no weed"):
        common.unavailable("no weed")
    monkeypatch.setattr(common, "REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="required backend cannot run: no weed"):
        common.unavailable("no weed")


def test_free_ports_leave_room_for_grpc_twins():
    from tests.infra.common import free_ports

    ports = free_ports(4, grpc_offset=10000)
    assert len(set(ports)) == 4
    # Port and twin below the ephemeral range (32768 and up), where connections take ports.
    assert all(10000 <= port and port + 10000 < 32768 for port in ports)
    assert not {port + 10000 for port in ports} & set(ports)
