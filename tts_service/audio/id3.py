"""Build the ID3v2 tag that opens an article's MP3, so players show its title.

The tag is made by mutagen, written into an in-memory file: mutagen's ``ID3.save`` accepts
any seekable file object, so no temporary file and no hand-rolled frame encoding is needed.
ID3v2.4 is used because it is the version that allows UTF-8 text, and Vietnamese titles
need it (v2.3 would mean UTF-16 with a byte-order mark).
"""

from __future__ import annotations

import io

from mutagen.id3 import ID3, TALB, TIT2, TPE1, Encoding

__all__ = ["id3_title_tag"]


def id3_title_tag(title: str, *, artist: str | None = None, album: str | None = None) -> bytes:
    """Return an ID3v2.4 tag holding ``title`` (TIT2), and ``artist``/``album`` if given.

    The tag has no padding: it is written once, before the frames, and never edited in
    place. Raises :class:`ValueError` for a blank title, which no player could show.
    """
    if not title.strip():
        raise ValueError("an ID3 title tag needs a non-blank title")
    # mutagen ships partial annotations; ID3() and add() are among the untyped parts.
    tag = ID3()  # type: ignore[no-untyped-call]
    for frame, text in ((TIT2, title), (TPE1, artist), (TALB, album)):
        if text:
            # NUL separates values in an ID3v2.4 text frame: one inside would split the title.
            clean = text.replace("\x00", "")
            tag.add(frame(encoding=Encoding.UTF8, text=[clean]))  # type: ignore[no-untyped-call]
    buffer = io.BytesIO()
    tag.save(buffer, v1=0, v2_version=4, padding=lambda _info: 0)
    return buffer.getvalue()
