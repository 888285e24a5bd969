"""One smoke test against Google's real endpoint; deselected by default (``-m net`` runs it)."""

from __future__ import annotations

import pytest

from tts_service.audio.format import HOUSE_FORMAT
from tts_service.audio.mp3 import stream_format
from tts_service.engines.gtts_engine import GTTSEngine


@pytest.mark.net
def test_real_google_reads_vietnamese():
    with GTTSEngine(retries=1, timeout=10) as engine:
        audio = engine.synthesize("Xin chào, đây là Ủy ban nhân dân tỉnh Lạng Sơn.")
    assert stream_format(audio) == HOUSE_FORMAT
