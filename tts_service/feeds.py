"""Registered articles as a podcast: an RSS 2.0 feed with enclosures and iTunes tags.

A blind reader's podcast app is where they already listen, with its own speed control,
downloads for the bus and "mark as played". So a portal's articles are also offered the
way podcasts are: one feed per API key that asks for one (``feed_title``), newest first,
each item's enclosure the same MP3 the portal's button plays.

Building the XML is separate from fetching the records, so it is a pure function of what
is passed in, as gTTS separates planning requests from sending them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate

__all__ = ["FeedItem", "render_feed"]

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("itunes", ITUNES)
ET.register_namespace("atom", ATOM)

# How much of an article's text describes it in the podcast app.
_SUMMARY_CHARS = 300


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One episode: an article whose audio is made."""

    id: str
    title: str
    summary: str
    audio_url: str
    audio_bytes: int
    duration_s: float
    published: float  # Unix time
    version: str  # changes when the audio changes, so apps fetch the new one


def _duration(seconds: float) -> str:
    """iTunes' HH:MM:SS, e.g. 754.2 s → 00:12:34."""
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _summary(text: str) -> str:
    """The start of the article, cut at a word: what the app shows under the title."""
    text = " ".join(text.split())
    if len(text) <= _SUMMARY_CHARS:
        return text
    return text[:_SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def render_feed(
    *, title: str, feed_url: str, site_url: str, items: Sequence[FeedItem], now: float
) -> bytes:
    """The RSS 2.0 document (UTF-8) of ``items``, newest first as given."""
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", site_url)
    _sub(channel, "description", f"Bài viết của {title}, đọc thành tiếng.")
    _sub(channel, "language", "vi")
    _sub(channel, "generator", "tts-service")
    _sub(channel, "lastBuildDate", formatdate(now, usegmt=True))
    _sub(channel, f"{{{ATOM}}}link", href=feed_url, rel="self", type="application/rss+xml")
    _sub(channel, f"{{{ITUNES}}}author", title)
    _sub(channel, f"{{{ITUNES}}}summary", f"Bài viết của {title}, đọc thành tiếng.")
    _sub(channel, f"{{{ITUNES}}}explicit", "false")
    _sub(channel, f"{{{ITUNES}}}type", "episodic")
    _sub(channel, f"{{{ITUNES}}}category", text="News")
    for item in items:
        entry = _sub(channel, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "description", _summary(item.summary))
        _sub(entry, "guid", f"{item.id}#{item.version}", isPermaLink="false")
        _sub(entry, "pubDate", formatdate(item.published, usegmt=True))
        _sub(
            entry,
            "enclosure",
            url=item.audio_url,
            length=str(item.audio_bytes),
            type="audio/mpeg",
        )
        _sub(entry, f"{{{ITUNES}}}duration", _duration(item.duration_s))
        _sub(entry, f"{{{ITUNES}}}title", item.title)
        _sub(entry, f"{{{ITUNES}}}episodeType", "full")
    return bytes(ET.tostring(rss, encoding="utf-8", xml_declaration=True))
