"""Audio and server helpers shared by tests (not fixtures: plain functions)."""

from __future__ import annotations

import ipaddress
import math
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import imageio_ffmpeg
import lameenc
import uvicorn
from fastapi import FastAPI

from tts_service.audio.format import HOUSE_FORMAT
from tts_service.fetch import is_forbidden_address


@lru_cache(maxsize=256)
def tone_mp3(seconds: float, *, rate: int = 24000, bitrate: int = 32, freq: float = 440.0) -> bytes:
    """A real MP3 of a quiet sine tone, by default in the house format."""
    count = int(seconds * rate)
    pcm = struct.pack(
        f"<{count}h", *(int(3000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(count))
    )
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_bit_rate(bitrate)
    encoder.set_quality(5)
    return bytes(encoder.encode(pcm) + encoder.flush())


def assert_whole_audio(data: bytes, announced: float) -> float:
    """Decode ``data`` fully; it must last the announced duration, to within one frame.

    A valid MP3 is not enough: a stream cut at a chunk boundary still decodes. The house
    format's frame is 576 samples at 24 kHz, 24 ms. Returns the decoded duration.
    """
    seconds = decode_seconds(data)
    assert abs(seconds - announced) <= HOUSE_FORMAT.frame_seconds, (
        f"decoded {seconds:.3f} s, announced {announced:.3f} s"
    )
    return seconds


def assert_heard_whole(client: Any, info: dict[str, Any], audio: bytes) -> float:
    """The audio of the read answer ``info`` lasts what its status announces, to a frame."""
    status = client.get(f"/v1/read/{info['id']}")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "ready", status.text
    return assert_whole_audio(audio, status.json()["duration_s"])


def forbidden_but_loopback(address: str) -> bool:
    """The fetcher's address check, widened to a test's own server on 127.0.0.1 or ::1."""
    return not ipaddress.ip_address(address).is_loopback and is_forbidden_address(address)


def text_tone(text: str) -> bytes:
    """Fake speech: 30 ms of tone per character, at least a quarter second."""
    return tone_mp3(round(max(0.25, 0.03 * len(text)), 2))


def decode_seconds(data: bytes) -> float:
    """Decode MP3 bytes fully with ffmpeg; return the decoded duration. Fails on corruption."""
    result = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-xerror",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "24000",
            "pipe:1",
        ],
        input=data,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0 or result.stderr.strip():
        raise AssertionError(f"ffmpeg could not decode the MP3: {result.stderr.decode()[:500]}")
    return len(result.stdout) / 2 / 24000


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a loopback port; yields its base URL.

    The socket listens before the server thread starts, so clients can connect at once
    (the kernel queues them) and nothing has to wait for start-up.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def local_limiter(per_minute, *, burst=None, reserve=None, clock=None, wait=None):
    """The engine's rate limiter for one process: a BudgetLimiter over a LocalRateBudget,
    both on ``clock`` when given (tests pass a fake one)."""
    from tts_service.coordination.limiter import BudgetLimiter
    from tts_service.coordination.local import LocalRateBudget

    if clock is None:
        return BudgetLimiter(LocalRateBudget(per_minute, burst=burst, reserve=reserve))
    budget = LocalRateBudget(per_minute, burst=burst, reserve=reserve, clock=clock)
    return BudgetLimiter(budget, clock=clock, wait=wait)
