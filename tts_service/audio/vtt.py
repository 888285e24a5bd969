"""WebVTT sentence cues: one cue per sentence, its text as written in the article.

Inside a sentence cue, the phrases the engine read one by one (the chunks) are marked with
WebVTT cue timestamps, the karaoke form of the format::

    s2
    00:00:07.392 --> 00:00:15.600
    Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, <00:00:11.208>Cụm thi đua…

A client that knows nothing of them still reads one cue per sentence with the sentence as
its text (timestamp tags are not text: captions show the whole sentence, and a client that
strips tags gets exactly what it got before); the read-aloud player highlights the phrase
being read inside the sentence. Every time comes from counted audio frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Cue", "Phrase", "cue_times", "render_vtt"]


@dataclass(frozen=True, slots=True)
class Phrase:
    """A piece of a sentence as written and when its audio starts, in seconds."""

    start: float
    text: str


@dataclass(frozen=True, slots=True)
class Cue:
    """A sentence's time span in the article's audio, and its phrases' starts when known."""

    sentence: int
    start: float
    end: float
    text: str
    phrases: tuple[Phrase, ...] = field(default=())


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


def _payload(cue: Cue) -> str:
    """The cue text, with a timestamp tag before every phrase but the first.

    Empty pieces (two chunks of one written expression) add no tag; a tag must fall
    strictly inside the cue and after the one before it (in whole milliseconds, as
    written), or it is left out and its piece joins the phrase before.
    """
    if len(cue.phrases) < 2:
        return _escape(cue.text)
    out = ""
    last = _millis(cue.start)
    written = ""
    for phrase in cue.phrases:
        piece = _escape(phrase.text)
        if piece:
            glue = " " if out and (written[-1:].isspace() or phrase.text[:1].isspace()) else ""
            at = _millis(phrase.start)
            tag = ""
            if out and last < at < _millis(cue.end):
                tag = f"<{_timestamp(phrase.start)}>"
                last = at
            out += glue + tag + piece
        written += phrase.text
    return out


def _millis(seconds: float) -> int:
    return round(seconds * 1000)


def render_vtt(cues: Iterable[Cue]) -> str:
    """Render cues as a WebVTT file; cue identifiers are ``s<sentence index>``."""
    blocks = ["WEBVTT"]
    for cue in cues:
        blocks.append(
            f"s{cue.sentence}\n{_timestamp(cue.start)} --> {_timestamp(cue.end)}\n{_payload(cue)}"
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
