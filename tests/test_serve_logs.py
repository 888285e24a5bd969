"""``tts-service serve`` logs in one format from its first line, uvicorn's lines included."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_line_from_start_to_stop_is_json(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TTS_")},
        "TTS_ENGINE": "espeak",
        "TTS_CACHE_DIR": str(tmp_path / "cache"),
        "TTS_PORT": str(port),
    }
    command = [sys.executable, "-m", "tts_service", "serve", "--host", "127.0.0.1"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert process.stderr is not None
        # Read until uvicorn says it is listening: that line is awaited, not slept for.
        for line in process.stderr:
            lines.append(line)
            if "Uvicorn running on" in line:
                break
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        process.terminate()
        _, rest = process.communicate(timeout=30)
    lines += (rest or "").splitlines()
    lines = [line for line in lines if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any plain "INFO:" line
    messages = [record["message"] for record in records]
    assert any("Started server process" in m for m in messages), messages
    assert any("Uvicorn running on" in m for m in messages), messages
    assert "GET /healthz 200" in messages
    assert any("Shutting down" in m for m in messages), messages
    assert {record["logger"] for record in records} >= {"uvicorn.error"}
