"""Phrase timings come from the frames the assembler counts, chunk by chunk."""

from __future__ import annotations

from tts_service.audio.assemble import Assembler
from tts_service.audio.encode import silence
from tts_service.audio.vtt import Phrase, render_vtt
from tts_service.planning import Pauses, plan_article
from tts_service.testing import FakeEngine
from tts_service.text.pipeline import normalize

TEXT = (
    "Ngày 09/7/2021, tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, Cụm thi đua tổ chức hội nghị.\n"
    "Hội nghị kết thúc."
)


def test_phrase_starts_are_counted_frames():
    engine = FakeEngine(lambda _text: b"", max_chars=80)
    plan = plan_article(
        normalize(TEXT), engine=engine, title=None, pauses=Pauses(240, 480), limit=80
    )
    assert [c.chunk.sentence for c in plan.chunks] == [0, 0, 1]
    assembler = Assembler(plan)
    frames = [50, 75, 25]  # 1.2 s, 1.8 s, 0.6 s of audio, 24 ms a frame
    for chunk, count in zip(plan.chunks, frames, strict=True):
        assembler.add(chunk, silence(count * 0.024))
    first, second = assembler.cues()
    assert first.phrases == (
        Phrase(0.0, "Ngày 09/7/2021, "),
        Phrase(
            50 * 0.024, "tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, Cụm thi đua tổ chức hội nghị."
        ),
    )
    assert (first.start, first.end) == (0.0, 125 * 0.024)
    # A one-chunk sentence has no phrases; it starts after the paragraph pause (20 frames).
    assert second.phrases == ()
    assert (second.start, second.end) == (145 * 0.024, 170 * 0.024)
    assert render_vtt([first, second]) == (
        "WEBVTT\n\n"
        "s0\n00:00:00.000 --> 00:00:03.000\n"
        "Ngày 09/7/2021, <00:00:01.200>tại Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn, "
        "Cụm thi đua tổ chức hội nghị.\n\n"
        "s1\n00:00:03.480 --> 00:00:04.080\nHội nghị kết thúc.\n"
    )
