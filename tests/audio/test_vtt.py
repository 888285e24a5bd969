from __future__ import annotations

from tts_service.audio.vtt import Cue, Phrase, cue_times, render_vtt


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


def test_phrases_are_cue_timestamps_inside_the_sentence_cue():
    phrases = (
        Phrase(7.392, "Ngày 09/7/2021, "),
        Phrase(11.208, "tại Sở KH&ĐT, "),
        Phrase(13.5, ""),  # a second chunk of one written expression: no tag of its own
        Phrase(14.0, "Cụm thi đua."),
    )
    cue = Cue(2, 7.392, 15.6, "Ngày 09/7/2021, tại Sở KH&ĐT, Cụm thi đua.", phrases)
    assert render_vtt([cue]) == (
        "WEBVTT\n\n"
        "s2\n00:00:07.392 --> 00:00:15.600\n"
        "Ngày 09/7/2021, <00:00:11.208>tại Sở KH&amp;ĐT, <00:00:14.000>Cụm thi đua.\n"
    )
    assert cue_times(render_vtt([cue])) == {2: (7.392, 15.6)}


def test_a_timestamp_outside_its_cue_is_left_out():
    phrases = (Phrase(1.0, "Một, "), Phrase(1.0, "hai, "), Phrase(2.5, "ba."))
    cue = Cue(0, 1.0, 2.5, "Một, hai, ba.", phrases)
    assert render_vtt([cue]).endswith("\nMột, hai, ba.\n")
