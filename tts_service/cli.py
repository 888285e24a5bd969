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

    from tts_service.settings import get_settings

    settings = get_settings()
    uvicorn.run(
        "tts_service.api.main:app",
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
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
    """Read FILE (or - for stdin) aloud into an MP3 file."""
    from tqdm import tqdm

    from tts_service.api.main import build_service
    from tts_service.errors import TTSError
    from tts_service.settings import get_settings

    service = build_service(get_settings())
    try:
        chain = service.chain(engine)
        article = service.extract(text=_read_input(source), html=None)
        document = service.normalize(article.text)
        plans = service.plan(document, title=title or article.title, chain=chain)
        with tqdm(total=len(plans[0].chunks), unit="đoạn", disable=None, file=sys.stderr) as bar:
            job = service.synthesize_blocking(plans, on_chunk=lambda j: bar.update(1))
        stored = service.stored(job.result_key or job.id)
        if stored is None:
            output.write_bytes(job.audio())
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
    """Print the spoken text of FILE (or - for stdin)."""
    from tts_service.settings import get_settings
    from tts_service.text.lexicon import Lexicon
    from tts_service.text.pipeline import normalize as run

    text = _read_input(source)
    lexicon = Lexicon.load(get_settings().site_lexicon)
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


if __name__ == "__main__":
    main()
