"""PostgreSQL going away under a running service: 503 with Retry-After, then back by itself.

The database refuses connections (``ALLOW_CONNECTIONS false``) and every open session is
ended, as a restart does to clients. Registry requests must fail cleanly — 503, the
Vietnamese and English message, ``Retry-After`` — and write nothing; once the database
takes connections again the same service serves them, without a restart.
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from tests.registry.cms import AUTH, put, wait_job

UNAVAILABLE = "Kho bài viết đang lỗi, xin thử lại sau (article registry unavailable)."


def _set_connections(server, database: str, *, allowed: bool) -> None:
    """Let the database take connections or not; ending its sessions when not."""
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )


@pytest.mark.postgresql_only("a database server that goes away and comes back")
def test_a_database_outage_is_a_503_and_the_service_recovers_by_itself(
    cms, registry_url, postgres_server
):
    client, _ = cms
    database = str(sa.engine.make_url(registry_url).database)
    first = put(client, "tin-1", text="Tin đầu: khai mạc kỳ họp.")
    assert first.status_code == 202, first.text
    assert wait_job(client, first.json()["job"]["id"])["state"] == "done"

    postgres = postgres_server
    _set_connections(postgres, database, allowed=False)
    try:
        for answer in (
            put(client, "tin-2", text="Tin hai: bế mạc kỳ họp."),
            client.get("/v1/articles/tin-1", headers=AUTH),
            client.get("/v1/articles", headers=AUTH),
        ):
            assert answer.status_code == 503, answer.text
            assert answer.json() == {"detail": UNAVAILABLE}
            assert answer.headers["retry-after"] == "30"
    finally:
        _set_connections(postgres, database, allowed=True)

    # Back, in the same process: the refused write left nothing behind.
    assert client.get("/v1/articles/tin-2", headers=AUTH).status_code == 404
    again = put(client, "tin-2", text="Tin hai: bế mạc kỳ họp.")
    assert again.status_code == 202, again.text
    assert wait_job(client, again.json()["job"]["id"])["state"] == "done"
    assert client.get("/v1/articles/tin-1", headers=AUTH).json()["status"] == "ready"
