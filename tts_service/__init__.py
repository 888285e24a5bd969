"""Vietnamese read-aloud service: article in, cached and streamable MP3 with timings out."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
