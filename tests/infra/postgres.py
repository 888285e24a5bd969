"""PostgreSQL 15 on loopback for the tests, started from Debian's binaries.

``pg_config --bindir`` names the directory of ``initdb`` and ``postgres``. PostgreSQL
refuses to run as root, so as root the commands run as the ``postgres`` user
(``runuser -u postgres --``) in a temporary directory it owns. The server listens on
127.0.0.1 only, on a free port, with durability off (tests do not survive a power cut).

Fixtures:
    postgres_server: the session's server (started on first use).
    postgres_url: a fresh, empty database for one test, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.common import free_ports, unavailable, wait_until

__all__ = ["PostgresServer", "postgres_server", "postgres_url"]


def _bindir() -> Path | None:
    """Where initdb and postgres are, from ``pg_config --bindir``; None when not installed."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    path = Path(out.stdout.strip())
    return path if (path / "initdb").exists() and (path / "postgres").exists() else None


@dataclass
class PostgresServer:
    """A running server: its port and the URL of its ``postgres`` database."""

    port: int
    root: Path
    process: subprocess.Popen[bytes]
    as_user: list[str]
    bindir: Path

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for ``database`` (psycopg 3), as the service will take it."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """A libpq connection string for ``database``."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb in a temporary directory, start ``postgres`` and wait until it answers."""
        bindir = _bindir()
        if bindir is None:
            unavailable(
                "PostgreSQL is not installed (pg_config --bindir); apt-get install postgresql-15"
            )
        as_user: list[str] = []
        root = Path(tempfile.mkdtemp(prefix="tts-pg-"))
        if os.geteuid() == 0:
            as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, user="postgres", group="postgres")
        data = root / "data"
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        (port,) = free_ports(1)
        log = open(root / "postgres.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [
                *as_user,
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(root),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        server = cls(port=port, root=root, process=process, as_user=as_user, bindir=bindir)
        try:
            wait_until(server._answers, what="PostgreSQL", timeout_s=60, alive=server._exited)
        except BaseException:
            server.stop()
            raise
        return server

    def _answers(self) -> bool:
        """True once the server accepts a real connection and runs a query."""
        import psycopg

        try:
            with psycopg.connect(self.dsn(), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def _exited(self) -> str | None:
        if self.process.poll() is None:
            return None
        return (self.root / "postgres.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Fast shutdown (running sessions are ended), then remove the data directory."""
        if self.process.poll() is None:
            subprocess.run(
                [
                    *self.as_user,
                    str(self.bindir / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.root / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "30",
                ],
                capture_output=True,
                check=False,
            )
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self) -> str:
        """A new empty database; its name."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database made by :meth:`create_database`, ending its sessions."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, stopped at its end."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg package is missing: pip install -e '.[dev]'")
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A SQLAlchemy URL of a fresh database for this test alone."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
