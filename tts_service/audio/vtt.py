"""WebVTT sentence cues: one cue per sentence, its text as written in the article."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Cue", "cue_times", "render_vtt"]


@dataclass(frozen=True, slots=True)
class Cue:
    """A sentence's time span in the article's audio."""

    sentence: int
    start: float
    end: float
    text: str


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _escape(text: str) -> str:
    # Cue payloads are parsed for tags and entities: "KH&ĐT" must arrive as written, and
    # an escaped ">" also keeps "-->" from reading as a timing line.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A blank line would end the cue early.
    return " ".join(text.split())


def render_vtt(cues: Iterable[Cue]) -> str:
    """Render cues as a WebVTT file; cue identifiers are ``s<sentence index>``."""
    blocks = ["WEBVTT"]
    for cue in cues:
        blocks.append(
            f"s{cue.sentence}\n{_timestamp(cue.start)} --> {_timestamp(cue.end)}\n"
            f"{_escape(cue.text)}"
        )
    return "\n\n".join(blocks) + "\n"


def cue_times(vtt: str) -> dict[int, tuple[float, float]]:
    """Sentence index → ``(start, end)`` seconds, read back from :func:`render_vtt`'s output.

    Only our own files are parsed: cue ids ``s<index>`` and ``HH:MM:SS.mmm`` stamps.
    """
    times: dict[int, tuple[float, float]] = {}
    for block in vtt.split("\n\n"):
        lines = block.strip().splitlines()
        if len(lines) >= 2 and lines[0].startswith("s") and " --> " in lines[1]:
            start, _, end = lines[1].partition(" --> ")
            times[int(lines[0][1:])] = (_seconds(start), _seconds(end))
    return times


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
