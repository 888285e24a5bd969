"""What the backend fixtures share: free ports, polling for readiness, skip-or-fail."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import NoReturn

import pytest

# CI must exercise the real backends: a missing PostgreSQL or weed binary is a failure
# there, not a quiet skip (read at import, before the suite clears TTS_* variables).
REQUIRED = bool(os.environ.get("CI")) or os.environ.get("TTS_REQUIRE_BACKENDS") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``, or fail it when the backends are required."""
    if REQUIRED:
        pytest.fail(f"required backend cannot run: {reason}", pytrace=False)
    pytest.skip(f"backend unavailable: {reason}")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, *, grpc_offset: int | None = None) -> list[int]:
    """``count`` distinct free loopback ports.

    With ``grpc_offset``, ``port + grpc_offset`` is free too (SeaweedFS opens its gRPC
    port there), so the ports are drawn below ``65535 - grpc_offset``.
    """
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port in ports:
            continue
        if grpc_offset is not None:
            # Both the port and its gRPC twin stay below the kernel's ephemeral range
            # (32768 and up on Linux): an outgoing connection elsewhere on the machine can
            # take an ephemeral port between our check and weed's bind, and did.
            port = 10000 + port % (32768 - grpc_offset - 10000)
            if not (_port_free(port) and _port_free(port + grpc_offset)):
                continue
            if any(abs(port - other) == grpc_offset for other in ports):
                continue
        ports.append(port)
    return ports


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    timeout_s: float,
    alive: Callable[[], str | None],
) -> None:
    """Poll ``ready()`` (a real protocol call) until it is true.

    ``alive()`` returns an error text when the server process has exited, so a server
    that cannot start fails at once with its log instead of after the timeout.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        if ready():
            return
        error = alive()
        if error is not None:
            raise RuntimeError(f"{what} exited before it was ready:\n{error}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} was not ready after {timeout_s:.0f}s")
        # Polling interval, not a wait for readiness: readiness is the call above.
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
