"""The ``tts-service`` command: serve the API, read a file to MP3, show the spoken text."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tts_service import __version__

__all__ = ["main"]


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8")


@click.group()
@click.version_option(__version__, prog_name="tts-service")
def main() -> None:
    """Vietnamese read-aloud service (Đọc nội dung)."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default: TTS_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: TTS_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    from tts_service.api.server import slow_client_protocol
    from tts_service.settings import get_settings

    settings = get_settings()
    uvicorn.run(
        "tts_service.api.main:app",
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        # uvicorn's own protocol waits for ever on a client that trickles its request.
        http=slow_client_protocol(settings.header_timeout_s),
    )


@main.command()
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

    settings = get_settings()
    service = build_service(settings)
    try:
        service.set_lexicon(site_lexicon(settings))
        chain = service.chain(engine)
        article = service.extract(text=_read_input(source), html=None)
        document = service.normalize(article.text)
        plans = service.plan(document, title=title or article.title, chain=chain)
        with tqdm(total=len(plans[0].chunks), unit="đoạn", disable=None, file=sys.stderr) as bar:
            job = service.synthesize_blocking(plans, on_chunk=lambda j: bar.update(1))
        stored = service.stored(job.result_key or job.id)
        if stored is None:
            with output.open("wb") as fh:
                fh.writelines(service.audio_parts(job))
        else:
            output.write_bytes(stored.mp3_path.read_bytes())
            if vtt is not None:
                vtt.write_bytes(stored.vtt_path.read_bytes())
        click.echo(f"{output}: {job.duration:.1f} s, engine {job.engine}", err=True)
    except TTSError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.close()


@main.command()
@click.argument("source", default="-")
@click.option(
    "--lines", is_flag=True, help="Normalise each input line on its own; one output line each."
)
@click.option("--explain", is_flag=True, help="List each rewrite with the rule that made it.")
def normalize(source: str, lines: bool, explain: bool) -> None:
    """Print the spoken text of FILE (or - for stdin).

    It is read with the site lexicon listeners hear, as the service chooses it at start-up:
    the one editors manage with PUT /v1/lexicon once the registry (TTS_REGISTRY_PATH, by
    default in TTS_CACHE_DIR) has one, else TTS_SITE_LEXICON. No registry is created.
    """
    from tts_service.errors import TTSError
    from tts_service.registry.runtime import site_lexicon
    from tts_service.settings import get_settings
    from tts_service.text.pipeline import normalize as run

    text = _read_input(source)
    try:
        lexicon = site_lexicon(get_settings())
    except TTSError as exc:
        # A registry that cannot be read (locked, or from a newer version): say so plainly
        # rather than show the file's lexicon, which may not be what listeners hear.
        raise click.ClickException(str(exc)) from exc
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


@main.command()
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


if __name__ == "__main__":
    main()
