"""Benchmark the read path against a loopback fake of Google's TTS endpoint.

For the seed article it measures, with every fake Google request taking ``--latency``
seconds: time to the first audio byte and to the whole article through the HTTP API, the
number of Google requests, and the same for gtts-cli's own code reading the same text from
the same fake. It also times the offline eSpeak NG voice and the service's peak memory.

    .venv/bin/python bench/bench_read_path.py [--latency 0.2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_load import free_port, start_service, stop  # noqa: E402
from bench.gtts_cli_reference import run_gtts_cli  # noqa: E402
from tts_service.extract import extract_plain  # noqa: E402
from tts_service.testing.fake_google import FakeGoogle  # noqa: E402

SEED = ROOT.parent / "shared" / "fixtures" / "seed-article.txt"
if not SEED.exists():
    SEED = ROOT / "tests" / "fixtures" / "seed-article.txt"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def read_once(base: str, text: str) -> dict[str, float]:
    """POST the article and stream its audio; time the first byte and the last."""
    with httpx.Client(base_url=base, timeout=300) as client:
        t0 = time.perf_counter()
        info = client.post("/v1/read", json={"text": text}).json()
        t_post = time.perf_counter() - t0
        first = None
        size = 0
        with client.stream("GET", info["audio_url"]) as stream:
            for chunk in stream.iter_bytes():
                # The ID3 tag comes first; audio starts with the first MPEG frame.
                if first is None and size + len(chunk) > 200:
                    first = time.perf_counter() - t0
                size += len(chunk)
        total = time.perf_counter() - t0
        vtt = client.get(info["vtt_url"]).text
    return {
        "post_s": t_post,
        "first_audio_s": first or total,
        "total_s": total,
        "bytes": size,
        "cues": vtt.count(" --> "),
        "engine": info["engine"],
    }


def bench_service(text: str, latency: float) -> dict[str, object]:
    with FakeGoogle(latency=latency) as fake, tempfile.TemporaryDirectory() as cache:
        port = free_port()
        proc = start_service(
            {
                "TTS_GTTS_BASE_URL": fake.base_url,
                "TTS_CACHE_DIR": cache,
                "TTS_ENGINE": "gtts,espeak",
            },
            port,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            cold = read_once(base, text)
            requests = len(fake.requests)
            chars = sum(len(t) for t in fake.requests)
            t0 = time.perf_counter()
            with httpx.Client(base_url=base) as client:
                hits = [client.post("/v1/read", json={"text": text}) for _ in range(20)]
            cached_ms = (time.perf_counter() - t0) / len(hits) * 1000
            return {
                **cold,
                "requests": requests,
                "mean_chars": chars / max(1, requests),
                "max_in_flight": fake.max_in_flight,
                "connections": fake.connections,
                "cached_post_ms": cached_ms,
                "peak_rss_mib": peak_rss_mib(proc.pid),
            }
        finally:
            stop(proc)


def bench_espeak(text: str) -> dict[str, float]:
    from tts_service.cache import AudioCache
    from tts_service.engines.espeak import EspeakEngine
    from tts_service.settings import Settings
    from tts_service.synthesis import SpeechService

    with tempfile.TemporaryDirectory() as cache_dir:
        settings = Settings(cache_dir=Path(cache_dir), engine=("espeak",))
        engine = EspeakEngine()
        engine.synthesize("khởi động")  # load the library and the Vietnamese voice once
        service = SpeechService(
            settings,
            engines={"espeak": engine},
            cache=AudioCache(settings.cache_dir, max_bytes=10**9),
        )
        try:
            t0 = time.perf_counter()
            article = service.extract(text=text, html=None)
            plans = service.plan(
                service.normalize(article.text), title=article.title, chain=service.chain(None)
            )
            job = service.synthesize_blocking(plans)
            return {
                "seconds": time.perf_counter() - t0,
                "audio_s": job.duration,
                "chunks": len(plans[0].chunks),
            }
        finally:
            service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    text = SEED.read_text(encoding="utf-8")
    # The service drops the portal's chrome from the seed; gtts-cli gets the article the
    # service actually reads, so both read the same text.
    article = extract_plain(text).text
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as same_text:
        same_text.write(article)
        same_text.flush()
        service = bench_service(text, args.latency)
        reference = run_gtts_cli(Path(same_text.name), latency=args.latency)
    espeak = bench_espeak(text)
    results = {
        "latency_s": args.latency,
        "seed_chars": len(text),
        "article_chars": len(article),
        "service": service,
        "gtts_cli": reference,
        "espeak": espeak,
    }
    ratios = {
        "whole_article_speedup": reference["seconds_total"] / service["total_s"],
        "request_ratio": service["requests"] / reference["requests"],
    }
    results["ratios"] = ratios
    print(json.dumps(results, indent=2, ensure_ascii=False))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
