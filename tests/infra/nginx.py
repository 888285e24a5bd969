"""nginx on loopback for the tests: in front of the service, as production runs it.

Debian's nginx (``scripts/install-test-deps.sh`` installs it) is started with a
configuration of the test's own in a temporary directory: one ``server`` on a free
loopback port, its pid, logs and temporary files in that directory, no system
configuration read. The package's own service (port 80) is never used.

:func:`start_nginx` takes the ``http``-level server block to run; the caller (the test or
the benchmark) writes the ``location``s it needs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.infra.common import free_ports, unavailable, wait_until

__all__ = ["NginxServer", "nginx_binary", "start_nginx"]


def nginx_binary() -> Path | None:
    """Debian's ``/usr/sbin/nginx``, else one on PATH."""
    for candidate in (Path("/usr/sbin/nginx"), shutil.which("nginx")):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


@dataclass
class NginxServer:
    """A running nginx: its base URL and its directory (config, logs)."""

    port: int
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return (self.root / "error.log").read_text(errors="replace")[-2000:]


_CONFIG = """
worker_processes {workers};
daemon off;
master_process on;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    types {{ audio/mpeg mp3; text/vtt vtt; application/json json; }}
    default_type application/octet-stream;
    sendfile on;
{http}
    server {{
        listen 127.0.0.1:{port};
{server}
    }}
}}
"""


@contextmanager
def start_nginx(
    server_block: str, *, http_block: str = "", workers: int = 1
) -> Iterator[NginxServer]:
    """Run nginx with ``server_block`` (``location``s) inside its one ``server``.

    ``http_block`` goes in ``http`` before it (``upstream`` blocks).

    Skipped (failed in CI) when nginx is not installed.
    """
    binary = nginx_binary()
    if binary is None:
        unavailable("nginx is not installed: scripts/install-test-deps.sh")
    root = Path(tempfile.mkdtemp(prefix="tts-nginx-"))
    (port,) = free_ports(1)
    # As root, workers would drop to "nobody", who cannot read pytest's 0700 directories.
    user = "user root;" if os.geteuid() == 0 else ""
    config = _CONFIG.format(
        workers=workers, root=root, user=user, port=port, server=server_block, http=http_block
    )
    (root / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [
            str(binary),
            "-p",
            str(root),
            "-c",
            str(root / "nginx.conf"),
            "-e",
            str(root / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    server = NginxServer(port, root, process)

    def ready() -> bool:
        try:
            httpx.get(f"{server.url}/", timeout=1)
        except httpx.TransportError:
            return False
        return True

    def exited() -> str | None:
        if process.poll() is None:
            return None
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        return stderr + server.log()

    try:
        wait_until(ready, what="nginx", timeout_s=20, alive=exited)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)
