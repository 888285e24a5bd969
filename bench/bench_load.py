"""Load-test the service on loopback: cached reads, a static-file ceiling, and memory.

It starts the service as a real uvicorn process (eSpeak NG voice, a temporary cache, the
per-client budget off and the job cap lifted), reads the seed article and a few short ones
so they are cached, and then measures with ``wrk``:

- ``POST /v1/read`` for the cached seed article (a Lua script sends the JSON body);
- ``GET`` of its audio, the static MP3 the service serves with Range and ETag;
- the same ``GET`` from nginx (``sendfile on``, two workers) serving a copy of that MP3:
  the ceiling for a static file on this machine.

Then it reads the service's peak memory (``VmHWM``) around 100 concurrent listeners
streaming 100 new articles, and around 100 concurrent readers of the cached file.

    .venv/bin/python bench/bench_load.py [--duration 10] [--json bench/results/load.json]

Needs Debian's ``wrk`` and ``nginx`` (``apt-get install -y wrk nginx``). Every request goes
to 127.0.0.1; every wait is bounded, and whatever the script starts it stops.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "fixtures" / "seed-article.txt"
if not SEED.exists():
    SEED = ROOT / "tests" / "fixtures" / "seed-article.txt"

HOST = "127.0.0.1"
WRK_THREADS = 2
WRK_CONNECTIONS = 32
STREAMS = 100
STREAM_CHUNK = 4096  # bytes a listener reads at a time
SHORT_ARTICLES = (
    "Hà Nội hôm nay trời nắng nhẹ, nhiệt độ từ 24 đến 31 độ.",
    "Giá xăng RON 95 giảm 500 đồng mỗi lít từ 15 giờ chiều nay.",
    "Đội tuyển Việt Nam thắng 2-1 trong trận giao hữu tối qua.",
)
_SERVICE_ENV = {
    "TTS_ENGINE": "espeak",
    "TTS_LOG_LEVEL": "warning",
    "TTS_CLIENT_SYNTH_PER_MINUTE": "0",  # the per-client budget would answer 429
    "TTS_MAX_CONCURRENT_JOBS": "1000",  # the job cap would answer 503 to 100 new articles
    "TTS_CLIENT_MAX_JOBS": "1000",  # every simulated listener is on 127.0.0.1
}


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it is true; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # a benchmark may poll a starting process
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def start_service(
    env: dict[str, str], port: int, *, log_to: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """Start uvicorn with the service on ``port``; wait until ready.

    The caller's ``TTS_*`` variables are dropped, so only ``env`` configures the service.
    ``log_to`` receives its output (the terminal by default).
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tts_service.api.main:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**base, **env},
        stdout=log_to,
        stderr=log_to,
    )
    url = f"http://{HOST}:{port}/readyz"
    try:
        wait_until(lambda: httpx.get(url, timeout=1).status_code == 200, 60, "the service")
    except BaseException:
        stop(proc)
        raise
    return proc


def start_nginx(workdir: Path, mp3: Path, port: int) -> subprocess.Popen[bytes]:
    """Start nginx in the foreground, serving a copy of ``mp3`` as ``/audio.mp3``."""
    root = workdir / "root"
    root.mkdir()
    shutil.copyfile(mp3, root / "audio.mp3")
    # Workers run as nobody: the temporary directories are private to root by default.
    for path in (workdir.parent, workdir, root):
        path.chmod(0o755)
    (root / "audio.mp3").chmod(0o644)
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ audio/mpeg mp3; }}
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen {HOST}:{port};
        root {root};
    }}
}}
"""
    )
    proc = subprocess.Popen(["nginx", "-p", str(workdir), "-c", str(conf)])
    url = f"http://{HOST}:{port}/audio.mp3"
    try:
        wait_until(lambda: httpx.head(url, timeout=1).status_code == 200, 20, "nginx")
    except BaseException:
        stop(proc)
        log((workdir / "error.log").read_text(errors="replace")[-2000:])
        raise
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process this script started: SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(15)


def proc_status_mib(pid: int, field: str) -> float:
    """A memory field of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS``) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> bool:
    """Reset the process's ``VmHWM`` to its current RSS (Linux ``clear_refs`` 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_and_wait(client: httpx.Client, payload: dict[str, str], timeout: float) -> dict[str, Any]:
    """POST an article and poll its status until the audio is ready."""
    info: dict[str, Any] = client.post("/v1/read", json=payload).raise_for_status().json()
    deadline = time.monotonic() + timeout
    while info["status"] != "ready":
        if time.monotonic() > deadline:
            raise RuntimeError(f"article {info['id']} not ready after {timeout:.0f} s")
        time.sleep(0.1)  # polling the service's own status endpoint
        info = client.get(f"/v1/read/{info['id']}").raise_for_status().json()
    return info


# -- wrk ---------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, latency percentiles (ms), and error counts from ``wrk --latency``."""
    result: dict[str, Any] = {}
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.MULTILINE)
        if match:
            result[f"p{pct}_ms"] = _ms(match.group(1))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    result["rps"] = float(rps.group(1)) if rps else float("nan")
    result["requests"] = int(total.group(1)) if total else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    return result


def run_wrk(
    url: str, duration: int, *, script: Path | None = None, pid: int | None = None
) -> dict[str, Any]:
    """Run ``wrk -t2 -c32 -d<duration>s --latency`` and parse what it prints."""
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    cpu0 = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    result = parse_wrk(out)
    if pid:
        result["server_cpu_s"] = cpu_seconds(pid) - cpu0
    return result


def post_script(path: Path, payload: dict[str, str]) -> Path:
    """A wrk Lua script that POSTs ``payload`` as JSON."""
    body = json.dumps(payload)  # ASCII only, so a Lua long string holds it as it is
    level = "=" * 4
    if f"]{level}]" in body:
        raise ValueError("the body contains the Lua long-string terminator")
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [{level}[{body}]{level}]\n"
    )
    return path


def measure(
    url: str, duration: int, warmup: int, *, script: Path | None = None, pid: int | None = None
) -> dict[str, Any]:
    """A short unrecorded wrk run to warm the server, then the measured one."""
    if warmup:
        run_wrk(url, warmup, script=script)
    return run_wrk(url, duration, script=script, pid=pid)


# -- concurrent listeners ----------------------------------------------------------------


def _listen(
    base: str,
    barrier: threading.Barrier,
    deadline: float,
    payload: dict[str, str] | None,
    path: str,
) -> dict[str, Any]:
    """One listener: POST its article (if any), then stream the audio to the end."""
    outcome: dict[str, Any] = {"ok": False, "bytes": 0, "id": None, "error": None}
    try:
        with httpx.Client(base_url=base, timeout=httpx.Timeout(60.0)) as client:
            barrier.wait()
            if payload is not None:
                info = client.post("/v1/read", json=payload).raise_for_status().json()
                path = info["audio_url"]
                outcome["id"] = info["id"]
            with client.stream("GET", path) as response:
                response.raise_for_status()
                for chunk in response.iter_bytes(STREAM_CHUNK):
                    outcome["bytes"] += len(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError("listener deadline passed")
            outcome["ok"] = True
    except (httpx.HTTPError, threading.BrokenBarrierError, TimeoutError) as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"
    return outcome


def listeners(
    base: str, pid: int, payloads: list[dict[str, str] | None], path: str, timeout: float
) -> dict[str, Any]:
    """Run one listener per payload at once; the service's memory before and at its peak."""
    rss_before = proc_status_mib(pid, "VmRSS")
    hwm_before = proc_status_mib(pid, "VmHWM")
    was_reset = reset_peak(pid)
    barrier = threading.Barrier(len(payloads), timeout=30)
    deadline = time.monotonic() + timeout
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        futures = [
            pool.submit(_listen, base, barrier, deadline, payload, path) for payload in payloads
        ]
        outcomes = [f.result(timeout=timeout + 60) for f in futures]
    seconds = time.perf_counter() - t0
    # A stream is complete when it ended cleanly with exactly the stored file's bytes.
    complete = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for outcome in outcomes:
            if not outcome["ok"]:
                continue
            target = f"/v1/audio/{outcome['id']}.mp3" if outcome["id"] else path
            stored = len(client.get(target).raise_for_status().content)
            complete += outcome["bytes"] == stored
    errors = sorted({o["error"] for o in outcomes if o["error"]})
    return {
        "listeners": len(payloads),
        "ended_cleanly": sum(o["ok"] for o in outcomes),
        "complete": complete,
        "mean_bytes": sum(o["bytes"] for o in outcomes) / len(outcomes),
        "seconds": seconds,
        "rss_before_mib": rss_before,
        "hwm_before_mib": hwm_before,
        "hwm_reset": was_reset,
        "hwm_after_mib": proc_status_mib(pid, "VmHWM"),
        "errors": errors[:5],
    }


def new_articles(run: str) -> list[dict[str, str] | None]:
    """100 distinct short articles nobody has asked for yet."""
    return [
        {
            "text": f"Bản tin số {i + 1} của phiên {run}. "
            f"Sáng nay, {i % 50 + 10} tuyến xe buýt ở Hà Nội đổi lộ trình để sửa đường. "
            f"Hành khách nên xem giờ chạy mới trước khi ra bến."
        }
        for i in range(STREAMS)
    ]


# -- report ------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    rows = ["| | requests/s | p50 | p99 | server CPU |", "| --- | --- | --- | --- | --- |"]
    for name, label in (
        ("post_cached", "`POST /v1/read`, cached seed article (service)"),
        ("get_audio", "`GET` its MP3 (service)"),
        ("get_audio_nginx", "`GET` the same MP3 (nginx, ceiling)"),
    ):
        r = results["wrk"][name]
        cpu = (
            f"{r['server_cpu_s'] / results['duration_s']:.2f} cores" if "server_cpu_s" in r else ""
        )
        rows.append(
            f"| {label} | {r['rps']:,.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {cpu} |"
        )
    rows += ["", "| 100 concurrent listeners | complete | VmRSS before | VmHWM during | seconds |"]
    rows.append("| --- | --- | --- | --- | --- |")
    for name, label in (("new", "each a new article"), ("cached", "one cached article")):
        m = results["memory"][name]
        rows.append(
            f"| {label} | {m['complete']}/{m['listeners']} | {m['rss_before_mib']:.0f} MiB "
            f"| {m['hwm_after_mib']:.0f} MiB | {m['seconds']:.1f} |"
        )
    return "\n".join(rows)


def bench(duration: int, warmup: int) -> dict[str, Any]:
    """Start everything, measure, and stop everything."""
    seed = {"text": SEED.read_text(encoding="utf-8")}
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        work = Path(tmp)
        try:
            port = free_port()
            service = start_service({**_SERVICE_ENV, "TTS_CACHE_DIR": str(work / "cache")}, port)
            procs.append(service)
            base = f"http://{HOST}:{port}"
            with httpx.Client(base_url=base, timeout=60) as client:
                info = read_and_wait(client, seed, 120)
                for text in SHORT_ARTICLES:
                    read_and_wait(client, {"text": text}, 60)
                again = client.post("/v1/read", json=seed)
                if again.status_code != 200 or again.json()["status"] != "ready":
                    raise RuntimeError(f"the seed article is not cached: {again.text}")
                audio_path = httpx.URL(info["audio_url"]).path
                mp3 = client.get(audio_path).raise_for_status().content
            results: dict[str, Any] = {
                "machine": f"{os.cpu_count()} cores",
                "wrk": {},
                "wrk_settings": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{duration}s --latency",
                "duration_s": duration,
                "seed_chars": len(seed["text"]),
                "mp3_bytes": len(mp3),
            }
            log(f"cached: {info['id']} ({len(mp3):,} bytes of MP3); running wrk")
            script = post_script(work / "post.lua", seed)
            results["wrk"]["post_cached"] = measure(
                f"{base}/v1/read", duration, warmup, script=script, pid=service.pid
            )
            results["wrk"]["get_audio"] = measure(
                f"{base}{audio_path}", duration, warmup, pid=service.pid
            )
            (work / "nginx").mkdir()
            nginx_port = free_port()
            stored = work / "cache" / "articles" / info["id"][:2] / f"{info['id']}.mp3"
            nginx_proc = start_nginx(work / "nginx", stored, nginx_port)
            procs.append(nginx_proc)
            try:
                results["wrk"]["get_audio_nginx"] = measure(
                    f"http://{HOST}:{nginx_port}/audio.mp3", duration, warmup
                )
            finally:
                stop(nginx_proc)
            log("wrk done; 100 concurrent listeners")
            results["memory"] = {
                "new": listeners(base, service.pid, new_articles(str(port)), "", 180),
                "cached": listeners(base, service.pid, [None] * STREAMS, audio_path, 120),
            }
            results["peak_rss_mib_lifetime"] = proc_status_mib(service.pid, "VmHWM")
            return results
        finally:
            for proc in reversed(procs):
                stop(proc)


def main() -> None:
    """Run the benchmark, print the table and optionally write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="unrecorded wrk seconds first")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("nginx") is None:
        sys.exit("needs wrk and nginx: apt-get install -y wrk nginx")
    results = bench(args.duration, args.warmup)
    print(table(results))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
