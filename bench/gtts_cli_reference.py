"""Reference numbers for gtts-cli's own code path, measured against the loopback FakeGoogle.

The benchmark compares the service with what a user gets from ``gtts-cli -f article.txt
-l vi``. Google cannot be reached from the bench machine, so gtts-cli talks to
:class:`~tts_service.testing.FakeGoogle` instead. **Only the host changes**: the helper
replaces gTTS's URL builder ``_translate_url`` (in ``gtts.tts``, where requests are built,
and in ``gtts.utils``, where error messages are) with one that returns
``<fake base_url>/<same path>``. gTTS's pre-processing, splitting into parts, request
bodies, one-session-per-part sending and decoding all run unchanged.

Two modes:

* ``inprocess``: ``gtts.cli.tts_cli`` through click's ``CliRunner``; no interpreter start-up.
* ``subprocess``: a fresh ``python`` running ``tts_cli`` with MP3 on stdout, as a user's
  shell would; includes start-up and imports, and times the first byte on the pipe.

Run it as a script (``--mode both`` by default) for a report::

    .venv/bin/python bench/gtts_cli_reference.py [--latency 0.2] [--text FILE]

or call :func:`run_gtts_cli` / :func:`run_reference` from another benchmark.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, cast
from unittest import mock

import click
import gtts.tts
import gtts.utils
from click.testing import CliRunner
from gtts.cli import tts_cli

_REPO = Path(__file__).resolve().parents[1]
# Run as a plain script (python bench/gtts_cli_reference.py), the package is not on the path.
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tts_service.testing import FakeGoogle  # noqa: E402

__all__ = ["DEFAULT_TEXT", "ReferenceResult", "run_gtts_cli", "run_reference"]

DEFAULT_TEXT = next(
    (
        path
        for path in (
            _REPO.parent / "shared" / "fixtures" / "seed-article.txt",
            _REPO / "tests" / "fixtures" / "seed-article.txt",
        )
        if path.exists()
    ),
    _REPO / "tests" / "fixtures" / "seed-article.txt",
)
"""The seed article: the shared copy when present, else the one under tests/fixtures."""

# What the subprocess runs: the same host-only patch, then gtts-cli's entry point.
_BOOTSTRAP = """
import sys
import gtts.tts, gtts.utils
base_url = sys.argv[1]
def _translate_url(tld="com", path=""):
    return base_url + "/" + path
gtts.tts._translate_url = gtts.utils._translate_url = _translate_url
from gtts.cli import tts_cli
sys.argv = ["gtts-cli", *sys.argv[2:]]
tts_cli()
"""

Mode = Literal["inprocess", "subprocess"]


@dataclass(frozen=True, slots=True)
class ReferenceResult:
    """One gtts-cli run, as seen by the fake.

    ``seconds_to_first_byte`` is when the fake started sending the first part's answer
    (a few kB over loopback), from the start of the run; gtts-cli writes that part out
    right after decoding it.
    ``seconds_to_first_stdout_byte`` (subprocess mode) is when the first MP3 byte reached
    the pipe, after the CLI's own stdout buffering.
    """

    mode: Mode
    seconds_total: float
    seconds_to_first_byte: float | None
    requests: int
    mean_chars_per_request: float
    connections: int
    audio_bytes: int
    seconds_to_first_stdout_byte: float | None = None


@contextmanager
def _pointed_at(base_url: str) -> Iterator[None]:
    """Make gTTS build ``<base_url>/<path>`` instead of ``https://translate.google.<tld>/``."""

    def translate_url(tld: str = "com", path: str = "") -> str:  # noqa: ARG001 - gTTS's API
        return f"{base_url}/{path}"

    with (
        mock.patch.object(gtts.tts, "_translate_url", translate_url),
        mock.patch.object(gtts.utils, "_translate_url", translate_url),
    ):
        yield


def _run_inprocess(text_path: Path, base_url: str) -> tuple[int, float | None]:
    """Run ``tts_cli`` in this interpreter; return (MP3 bytes written, None)."""
    with tempfile.TemporaryDirectory() as tmp, _pointed_at(base_url):
        out = Path(tmp) / "out.mp3"
        result = CliRunner().invoke(tts_cli, ["-f", str(text_path), "-l", "vi", "-o", str(out)])
        if result.exit_code != 0:
            raise RuntimeError(f"gtts-cli failed ({result.exit_code}): {result.output}")
        return out.stat().st_size, None


def _run_subprocess(text_path: Path, base_url: str, started: float) -> tuple[int, float | None]:
    """Run ``tts_cli`` in a new interpreter; return (MP3 bytes, seconds to first stdout byte)."""
    command = [sys.executable, "-c", _BOOTSTRAP, base_url, "-f", str(text_path), "-l", "vi"]
    first_byte: float | None = None
    size = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        if proc.stdout is None:  # pragma: no cover - stdout=PIPE guarantees it
            raise RuntimeError("no stdout pipe")
        while block := os.read(proc.stdout.fileno(), 65536):
            if first_byte is None:
                first_byte = time.monotonic() - started
            size += len(block)
        stderr = proc.stderr.read() if proc.stderr is not None else b""
    if proc.returncode != 0:
        raise RuntimeError(
            f"gtts-cli failed ({proc.returncode}): {stderr.decode(errors='replace')}"
        )
    return size, first_byte


def run_reference(
    text_path: Path = DEFAULT_TEXT, *, fake: FakeGoogle, mode: Mode = "inprocess"
) -> ReferenceResult:
    """Read ``text_path`` aloud with gtts-cli (``-l vi``) against a running ``fake``.

    Requests are counted by the fake, from the ones it receives during this run.
    """
    already = len(fake.received)
    connections_before = fake.connections
    started = time.monotonic()
    if mode == "inprocess":
        size, stdout_first = _run_inprocess(text_path, fake.base_url)
    else:
        size, stdout_first = _run_subprocess(text_path, fake.base_url, started)
    total = time.monotonic() - started
    received = fake.received[already:]
    answered = [r.answered_at for r in received if r.answered_at is not None]
    return ReferenceResult(
        mode=mode,
        seconds_total=total,
        seconds_to_first_byte=min(answered) - started if answered else None,
        requests=len(received),
        mean_chars_per_request=(
            sum(len(r.text) for r in received) / len(received) if received else 0.0
        ),
        connections=fake.connections - connections_before,
        audio_bytes=size,
        seconds_to_first_stdout_byte=stdout_first,
    )


def run_gtts_cli(
    text_path: Path = DEFAULT_TEXT, *, latency: float = 0.2, mode: Mode = "inprocess"
) -> dict[str, Any]:
    """Start a ``FakeGoogle(latency)``, run gtts-cli on ``text_path`` once, return the numbers.

    The dict has :class:`ReferenceResult`'s fields (``seconds_total``, ``requests``, …) plus
    ``latency_s``. In-process is the default because the service it is compared with is
    already running when timed; pass ``mode="subprocess"`` to include interpreter start-up.
    """
    with FakeGoogle(latency=latency) as fake:
        result = run_reference(text_path, fake=fake, mode=mode)
    return {**asdict(result), "latency_s": latency}


def _format(result: ReferenceResult) -> str:
    """One report block for a run."""
    ttfb = "n/a" if result.seconds_to_first_byte is None else f"{result.seconds_to_first_byte:.3f}"
    lines = [
        f"gtts-cli ({result.mode})",
        f"  total seconds          {result.seconds_total:.3f}",
        f"  first answer (s)       {ttfb}",
        f"  requests               {result.requests}",
        f"  mean chars / request   {result.mean_chars_per_request:.1f}",
        f"  TCP connections        {result.connections}",
        f"  MP3 bytes              {result.audio_bytes}",
    ]
    if result.seconds_to_first_stdout_byte is not None:
        lines.append(f"  first stdout byte (s)  {result.seconds_to_first_stdout_byte:.3f}")
    return "\n".join(lines)


@click.command()
@click.option(
    "--text",
    "text_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_TEXT,
    show_default=True,
)
@click.option("--latency", type=float, default=0.2, show_default=True, help="Fake's latency.")
@click.option(
    "--mode",
    type=click.Choice(["inprocess", "subprocess", "both"]),
    default="both",
    show_default=True,
)
def main(text_path: Path, latency: float, mode: str) -> None:
    """Print gtts-cli's reference numbers for TEXT against FakeGoogle(latency)."""
    modes: list[Mode] = ["inprocess", "subprocess"] if mode == "both" else [cast(Mode, mode)]
    chars = len(text_path.read_text(encoding="utf-8"))
    click.echo(f"text: {text_path} ({chars} characters); fake latency {latency} s per request")
    with FakeGoogle(latency=latency) as fake:
        for each in modes:
            click.echo(_format(run_reference(text_path, fake=fake, mode=each)))


if __name__ == "__main__":
    main()
