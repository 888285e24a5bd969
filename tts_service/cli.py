"""The ``tts-service`` command: serve the API, read a file to MP3, show the spoken text."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tts_service import __version__

if TYPE_CHECKING:
    from tts_service.storage import BlobStore
    from tts_service.text.lexicon import Lexicon

__all__ = ["main"]


class InputProblem(click.ClickException):
    """Input the command cannot read: one plain line and exit code 2, never a traceback."""

    exit_code = 2


def _read_input(source: str) -> str:
    """The text of FILE, or of stdin for ``-``; :class:`InputProblem` if it is unreadable."""
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        return Path(source).read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise InputProblem(f"Không có tệp '{name}' (no such file: {name}).") from exc
    except IsADirectoryError as exc:
        raise InputProblem(f"'{name}' là thư mục, không phải tệp ({name} is a directory).") from exc
    except PermissionError as exc:
        raise InputProblem(f"Không được đọc tệp '{name}' (permission denied: {name}).") from exc
    except UnicodeDecodeError as exc:
        raise InputProblem(
            f"'{name}' không phải văn bản UTF-8, lỗi ở byte {exc.start} "
            f"({name} is not UTF-8 text; bad byte at offset {exc.start})."
        ) from exc
    except OSError as exc:
        raise InputProblem(
            f"Không đọc được '{name}' (cannot read {name}: {exc.strerror})."
        ) from exc


_MAIN_EXAMPLES = """\b
Ví dụ (examples):
  tts-service serve                      # phục vụ API ở http://127.0.0.1:8000 (serve the API)
  tts-service synth bai.txt -o bai.mp3   # đọc một tệp thành MP3 (read a file to MP3)
  tts-service normalize --explain bai.txt  # xem sẽ đọc thế nào (what will be said, and why)
  tts-service pregenerate kho-bai/       # tạo sẵn âm thanh cả kho bài (pre-generate a catalogue)
  tts-service migrate-storage --from file://audio_cache --to s3://kho-am-thanh
                                         # chép âm thanh sang kho S3 (copy audio to a bucket)
"""

_SYNTH_EXAMPLES = """\b
Ví dụ (examples):
  tts-service synth bai.txt -o bai.mp3 --vtt bai.vtt
  echo "UBND tỉnh họp ngày 9/7." | tts-service synth - -o tin.mp3 --engine espeak
"""

_NORMALIZE_EXAMPLES = """\b
Ví dụ (examples):
  echo "UBND tỉnh họp ngày 9/7/2021." | tts-service normalize
  tts-service normalize --explain bai.txt   # từng chỗ đọc khác chữ viết, và quy tắc
  tts-service normalize --lines danh-sach.txt
  tts-service normalize --unknown kho-bai/*.txt  # chữ chưa biết đọc (tokens only spelled)
"""

_PREGENERATE_EXAMPLES = """\b
Ví dụ (examples):
  tts-service pregenerate kho-bai/ bai-moi.jsonl
  tts-service pregenerate --urls danh-sach-url.txt --workers 4
"""


@click.group(epilog=_MAIN_EXAMPLES)
@click.version_option(__version__, prog_name="tts-service")
def main() -> None:
    """Vietnamese read-aloud service (Đọc nội dung)."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default: TTS_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: TTS_PORT).")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API processes sharing the port; with more than one they coordinate through "
    "the database (TTS_DATABASE_URL, else a SQLite file in TTS_CACHE_DIR).",
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    from tts_service.api.server import uvicorn_options
    from tts_service.observability.logging import configure_logging
    from tts_service.settings import get_settings

    settings = get_settings()
    # One format from the first line on: uvicorn's start-up lines go through our handler
    # (uvicorn_options sets log_config=None, so uvicorn installs no plain "INFO:" handlers).
    configure_logging(settings.log_level, fmt=settings.log_format)
    options = uvicorn_options(settings)
    options["host"] = host or options["host"]
    options["port"] = port or options["port"]
    if workers > 1:
        # Several processes must share single flight, Google's budget and the breaker:
        # the workers (spawned with this environment) coordinate through the database.
        os.environ["TTS_COORDINATION"] = "shared"
        options["workers"] = workers
        # Found by name in each worker: uvicorn pickles its configuration for them.
        options["http"] = "tts_service.api.workers:HTTP_PROTOCOL"
    uvicorn.run("tts_service.api.main:app", **options)


@main.command(epilog=_SYNTH_EXAMPLES)
@click.argument("source", default="-")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--engine", default=None, help="Engine to try first (gtts, espeak).")
@click.option("--title", default=None, help="Title for the MP3 tag.")
@click.option(
    "--vtt",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the sentence timings as WebVTT.",
)
def synth(
    source: str, output: Path, engine: str | None, title: str | None, vtt: Path | None
) -> None:
    """Read FILE (or - for stdin) aloud into an MP3 file.

    It is read with the site lexicon listeners hear: the one editors manage with
    PUT /v1/lexicon once the registry has one, else TTS_SITE_LEXICON.
    """
    from tqdm import tqdm

    from tts_service.api.main import build_service
    from tts_service.errors import TTSError
    from tts_service.registry.runtime import site_lexicon
    from tts_service.settings import get_settings

    text = _read_input(source)  # before building engines: a bad path fails at once
    settings = get_settings()
    service = build_service(settings)
    try:
        service.set_lexicon(site_lexicon(settings))
        chain = service.chain(engine)
        article = service.extract(text=text, html=None)
        document = service.normalize(article.text)
        plans = service.plan(document, title=title or article.title, chain=chain)
        # The cache before the engines: audio made before (by the service or an earlier
        # run, by Google or by the fallback voice) is copied without asking any engine.
        stored = service.stored(plans[0].key)
        if stored is None:
            total = len(plans[0].chunks)
            with tqdm(total=total, unit="đoạn", disable=None, file=sys.stderr) as bar:
                job = service.synthesize_blocking(plans, on_chunk=lambda j: bar.update(1))
            stored = service.stored(job.result_key or job.id)
            if stored is None:
                # Not in the cache (the disk refused it): written from the job's chunks.
                with output.open("wb") as fh:
                    fh.writelines(service.audio_parts(job))
                click.echo(f"{output}: {job.duration:.1f} s, engine {job.engine}", err=True)
                return
        output.write_bytes(service.cache.read_mp3(stored))
        if vtt is not None:
            vtt.write_bytes(service.cache.read_vtt(stored).encode("utf-8"))
        duration = float(stored.meta["duration_s"])
        click.echo(f"{output}: {duration:.1f} s, engine {stored.meta['engine']}", err=True)
    except TTSError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.close()


@main.command(epilog=_NORMALIZE_EXAMPLES)
@click.argument("sources", nargs=-1)
@click.option(
    "--lines", is_flag=True, help="Normalise each input line on its own; one output line each."
)
@click.option("--explain", is_flag=True, help="List each rewrite with the rule that made it.")
@click.option(
    "--unknown",
    is_flag=True,
    help="List the tokens only spelled out or left as written, most frequent first.",
)
def normalize(sources: tuple[str, ...], lines: bool, explain: bool, unknown: bool) -> None:
    """Print the spoken text of each FILE (or - for stdin, the default).

    With --unknown, print instead every token the normaliser could only spell letter by
    letter or leave as written, over all FILEs: count, token, how it was said, and the
    sentence it was first found in, tab-separated, most frequent first.

    It is read with the site lexicon listeners hear, as the service chooses it at start-up:
    the one editors manage with PUT /v1/lexicon once the registry (TTS_REGISTRY_PATH, by
    default in TTS_CACHE_DIR) has one, else TTS_SITE_LEXICON. No registry is created.
    """
    from tts_service.errors import TTSError
    from tts_service.registry.runtime import site_lexicon
    from tts_service.settings import get_settings
    from tts_service.text.pipeline import normalize as run

    try:
        lexicon = site_lexicon(get_settings())
    except TTSError as exc:
        # A registry that cannot be read (locked, or from a newer version): say so plainly
        # rather than show the file's lexicon, which may not be what listeners hear.
        raise click.ClickException(str(exc)) from exc
    if unknown:
        from tts_service.text.unknown import count_unknown

        documents = (run(_read_input(source), lexicon=lexicon) for source in sources or ("-",))
        for item in count_unknown(documents):
            spoken = item.spoken if item.spoken is not None else "(as written)"
            click.echo(f"{item.count}\t{item.token}\t{spoken}\t{item.context}")
        return
    for source in sources or ("-",):
        _normalize_one(_read_input(source), lexicon, lines=lines, explain=explain)


def _normalize_one(text: str, lexicon: Lexicon | None, *, lines: bool, explain: bool) -> None:
    """Print the spoken text of one input (``--lines``: line by line; ``--explain``: rewrites)."""
    from tts_service.text.pipeline import normalize as run

    if lines:
        for line in text.splitlines():
            doc = run(line, lexicon=lexicon)
            click.echo(" ".join(s.spoken for s in doc.sentences))
        return
    document = run(text, lexicon=lexicon)
    click.echo(document.spoken_text)
    if explain:
        for sentence in document.sentences:
            for rw in sentence.rewrites:
                click.echo(
                    f"{rw.start}-{rw.end}\t{rw.rule}\t{rw.source!r} → {rw.spoken!r}", err=True
                )


@main.command(epilog=_PREGENERATE_EXAMPLES)
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--urls",
    "url_lists",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of page URLs, one a line (or id<TAB>url); # starts a comment.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=None,
    help="Articles read at once (default: TTS_WORKERS, else 2).",
)
def pregenerate(inputs: tuple[Path, ...], url_lists: tuple[Path, ...], workers: int | None) -> None:
    """Pre-generate the audio of a back catalogue into the article registry.

    INPUTS are folders of .html/.htm/.txt files (read recursively; the id is the path
    without suffix) and .jsonl files ({"id", "text"|"html"|"url", "title"?, ...} a line).
    Articles already ready are skipped; run it again after an interruption to resume.
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    from tts_service import batch
    from tts_service.api.main import build_service
    from tts_service.errors import TTSError
    from tts_service.settings import get_settings

    if not inputs and not url_lists:
        raise click.UsageError("give at least one folder, .jsonl file or --urls FILE")
    for path in inputs:
        try:
            batch.input_kind(path)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="INPUTS") from exc
    settings = get_settings()
    service = build_service(settings)
    try:
        # Worker warnings (a failed attempt) are written above the progress bar.
        with logging_redirect_tqdm():
            report = batch.run_batch(
                service,
                batch.gather(inputs, url_lists),
                workers=workers or settings.workers or 2,
            )
    except TTSError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.close()
    click.echo(report.summary(), err=True)
    if report.interrupted:
        click.echo(
            f"Interrupted: {report.unfinished} articles were not finished. Their jobs stay "
            "queued in the registry; run the same command again to resume them "
            "(a running service also picks them up).",
            err=True,
        )
    sys.exit(report.exit_code)


_WORKER_EXAMPLES = """\b
Ví dụ (examples):
  TTS_DATABASE_URL=postgresql://tts@db/tts tts-service worker --workers 4
"""


@main.command(epilog=_WORKER_EXAMPLES)
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=None,
    help="Articles read at once (default: TTS_WORKERS, else 2).",
)
def worker(workers: int | None) -> None:
    """Read registered articles' jobs, without HTTP, until SIGTERM or Ctrl-C.

    Any number of these, on any machine, share the jobs of one registry
    (TTS_DATABASE_URL) with the API processes; each job is read by one of them. On
    SIGTERM a worker stops claiming, lets running jobs finish for a few seconds and hands
    the rest back, so another process resumes them at once.
    """
    import signal
    import threading

    from tts_service.api.main import build_service
    from tts_service.errors import TTSError
    from tts_service.observability.logging import configure_logging
    from tts_service.registry.runtime import RegistryRuntime
    from tts_service.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, fmt=settings.log_format)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        # The database is opened here first (coordination, the index): a wrong URL is
        # a one-line error, not a traceback.
        service = build_service(settings)
    except (TTSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        runtime = RegistryRuntime(service, workers=workers or settings.workers or 2)
    except TTSError as exc:
        service.close()
        raise click.ClickException(str(exc)) from exc
    try:
        runtime.start()
        click.echo(f"worker {runtime.pool.owner} reading jobs", err=True)
        stop.wait()
        click.echo("stopping: handing running jobs back", err=True)
    finally:
        runtime.close()
        service.close()


_MIGRATE_EXAMPLES = """\b
Ví dụ (examples):
  tts-service migrate-storage --from file:///srv/tts/audio_cache --to s3://tts-audio/portal
  TTS_S3_ENDPOINT_URL=http://10.0.0.5:8333 tts-service migrate-storage \\
      --from file://audio_cache --to s3://tts-audio
"""


def _open_store(url: str, option: str) -> BlobStore:
    """The store ``url`` names; a bad URL is a usage error (exit code 2)."""
    from tts_service.errors import CacheError
    from tts_service.settings import get_settings
    from tts_service.storage import open_blob_store

    try:
        return open_blob_store(url, s3_endpoint_url=get_settings().s3_endpoint_url)
    except (ValueError, CacheError) as exc:
        raise click.BadParameter(
            f"không mở được kho âm thanh này (cannot open this store): {exc}", param_hint=option
        ) from exc


@main.command("migrate-storage", epilog=_MIGRATE_EXAMPLES)
@click.option("--from", "source_url", required=True, help="The store to copy: file://… or s3://…")
@click.option("--to", "target_url", required=True, help="The store to copy into.")
def migrate_storage(source_url: str, target_url: str) -> None:
    """Copy every audio object from one store to another, resumably, verifying each copy.

    Objects already in the target with the same size and SHA-256 are skipped: run the same
    command again after an interruption to resume. Each copy is read back and compared; one
    that differs (corrupted) is copied again. S3 credentials come from AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION, a non-AWS store from TTS_S3_ENDPOINT_URL.
    Exit code: 0 all copied, 1 some object failed, 2 a bad URL, 130 interrupted.
    """
    from tqdm import tqdm

    from tts_service.storage.transfer import migrate_storage as migrate

    source = _open_store(source_url, "--from")
    target = _open_store(target_url, "--to")
    if source.url == target.url:
        raise click.BadParameter(
            "nguồn và đích là một kho (--from and --to are the same store)", param_hint="--to"
        )
    try:
        with tqdm(unit="tệp", disable=None, file=sys.stderr) as bar:
            report = migrate(source, target, on_object=lambda _key: bar.update(1))
    finally:
        source.close()
        target.close()
    click.echo(f"{source.url} → {target.url}", err=True)
    click.echo(report.summary(), err=True)
    if report.interrupted:
        click.echo(
            "Interrupted: run the same command again to copy the rest "
            "(what is already copied and verified is skipped).",
            err=True,
        )
    sys.exit(report.exit_code)


if __name__ == "__main__":
    main()
