from __future__ import annotations

from tts_service.audio.vtt import Cue, cue_times, render_vtt


def test_renders_one_cue_per_sentence_with_escaped_text():
    vtt = render_vtt([Cue(0, 0.0, 1.5, "Sở KH&ĐT <tỉnh>"), Cue(3, 3661.0, 3662.25, "a\n\nb --> c")])
    assert vtt == (
        "WEBVTT\n\n"
        "s0\n00:00:00.000 --> 00:00:01.500\nSở KH&amp;ĐT &lt;tỉnh&gt;\n\n"
        "s3\n01:01:01.000 --> 01:01:02.250\na b --&gt; c\n"
    )


def test_cue_times_read_back_what_was_rendered():
    cues = [Cue(0, 0.0, 1.5, "UBND tỉnh họp."), Cue(3, 2.04, 3661.25, "KH&ĐT --> báo cáo.")]
    assert cue_times(render_vtt(cues)) == {0: (0.0, 1.5), 3: (2.04, 3661.25)}
