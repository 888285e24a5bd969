"""Phrase-level highlighting: the phrase lit inside the sentence is the one the audio plays,
read from the VTT's cue timestamps (measured from the chunks' frames)."""

from __future__ import annotations

from tests.browser.support import js, open_player, squash, state, wait_paused, wait_playing

PHRASE_NOW_JS = js(
    """
  const root = ttsRoot();
  const phrase = CSS.highlights.get('tts-phrase');
  return {t: ttsAudio().currentTime, id: root.dataset.ttsPhrase || null,
          text: phrase && phrase.size ? [...phrase].map((r) => r.toString()).join('') : null};"""
)


def _phrases(cues):
    return [
        (f"{cue['id']}.{k}", cue, phrase) for cue in cues for k, phrase in enumerate(cue["phrases"])
    ]


def test_vtt_marks_the_phrases_of_long_sentences(page, site):
    cues = open_player(page, site)
    long = [cue for cue in cues if cue["end"] - cue["start"] > 12]
    assert long, "the demo has sentences longer than 12 s"
    for cue in long:
        assert len(cue["phrases"]) >= 2, cue
        # The phrases are the sentence, cut where the engine's requests were cut.
        assert "".join(p["text"] for p in cue["phrases"]).split() == cue["text"].split()
        assert cue["phrases"][0]["start"] == cue["start"]
        starts = [p["start"] for p in cue["phrases"]]
        assert starts == sorted(set(starts)), cue
    # Chunks of at most 100 characters: no phrase of the article reaches 12 s with eSpeak.
    spans = [p["end"] - p["start"] for cue in cues for p in cue["phrases"] or [cue]]
    assert max(spans) < 12, max(spans)


def test_highlighted_phrase_follows_seeks(page, site):
    cues = open_player(page, site)
    page.click(".tts-play")
    wait_paused(page)
    phrases = _phrases(cues)
    assert len(phrases) > 10
    for pid, cue, phrase in phrases[1::3] + phrases[:1]:
        middle = (phrase["start"] + phrase["end"]) / 2
        page.evaluate(js("[...window.ttsPlayer.players][0].seekTo(arg);"), middle)
        page.wait_for_function(js("return ttsRoot().dataset.ttsPhrase === arg;"), arg=pid)
        now = page.evaluate(PHRASE_NOW_JS)
        assert phrase["start"] <= now["t"] < phrase["end"], (now, phrase)
        assert squash(now["text"]) == squash(phrase["text"]), (now, phrase)
        assert state(page)["cue"] == cue["id"]
        assert squash(cue["text"]).startswith(squash(state(page)["highlight"])[:20])


def test_highlighted_phrase_keeps_up_at_double_speed(page, site):
    cues = open_player(page, site)
    phrases = _phrases(cues)
    # Start a little before a sentence with several phrases and follow four boundaries.
    first = next(i for i, (_, cue, _) in enumerate(phrases) if len(cue["phrases"]) >= 3)
    page.evaluate(js("ttsAudio().playbackRate = 2;"))
    page.evaluate(
        js("[...window.ttsPlayer.players][0].seekTo(arg);"), phrases[first][2]["start"] - 0.3
    )
    wait_playing(page, phrases[first][2]["start"] - 0.3)
    for pid, _cue, phrase in phrases[first : first + 4]:
        page.wait_for_function(
            js("return ttsRoot().dataset.ttsPhrase === arg;"), arg=pid, polling=10
        )
        now = page.evaluate(PHRASE_NOW_JS)
        assert phrase["start"] <= now["t"] < phrase["end"], (now, phrase)
        assert squash(now["text"]) == squash(phrase["text"]), (now, phrase)
    assert state(page)["rate"] == 2
