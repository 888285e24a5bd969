"""Helpers shared by the browser tests: finding the player (inside its shadow root), its state,
and the article's cues."""

from __future__ import annotations

import re

import httpx

READ = "[data-tts-read]"

# The player's root, wherever it lives: in the page (old layout) or in a shadow root.
ROOT_JS = """(kind) => {
  const direct = document.querySelector('.tts-player');
  if (direct) return direct;
  for (const host of document.querySelectorAll('[data-tts-host]')) {
    const found = host.shadowRoot && host.shadowRoot.querySelector(kind || '.tts-player');
    if (found) return found;
  }
  return null;
}"""

# Functions every snippet below can use: find(selector) inside the player, live() text.
PRELUDE = f"""
const ttsFind = {ROOT_JS};
const ttsRoot = () => ttsFind('.tts-player');
const ttsAudio = () => {{ const r = ttsRoot(); return r && r.querySelector('audio'); }};
const ttsLive = () => {{
  const region = document.querySelector('.tts-live') || ttsFind('.tts-live');
  return region ? region.textContent : '';
}};
const ttsActive = () => {{
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el;
}};
"""

STATE_JS = (
    "() => {"
    + PRELUDE
    + """
  const root = ttsRoot();
  const audio = ttsAudio();
  const api = window.CSS && CSS.highlights && CSS.highlights.get('tts-current');
  const phrase = window.CSS && CSS.highlights && CSS.highlights.get('tts-phrase');
  const marks = [...document.querySelectorAll('mark.tts-current')];
  let highlight = null;
  if (api && api.size) highlight = [...api].map((r) => r.toString()).join('');
  else if (marks.length) highlight = marks.map((m) => m.textContent).join(' ');
  const active = ttsActive();
  return {
    t: audio ? audio.currentTime : null,
    paused: audio ? audio.paused : null,
    rate: audio ? audio.playbackRate : null,
    state: root ? root.dataset.ttsState : null,
    cue: root ? root.dataset.ttsCue || null : null,
    phrase: root ? root.dataset.ttsPhrase || null : null,
    cues: root ? Number(root.dataset.ttsCues || 0) : 0,
    highlight,
    phraseText: phrase && phrase.size ? [...phrase].map((r) => r.toString()).join('') : null,
    marks: marks.length,
    live: ttsLive(),
    status: root ? root.querySelector('.tts-status').textContent : null,
    focus: active && (active.getAttribute('aria-label') || active.textContent.trim()),
    inPlayer: !!(active && active.closest && active.closest('.tts-player')),
  };
}"""
)


def js(body: str) -> str:
    """A page function ``() => {body}`` with the prelude's helpers in scope."""
    return "(arg) => {" + PRELUDE + body + "}"


def state(page) -> dict:
    """The player's state as the tests read it."""
    return page.evaluate(STATE_JS)


def squash(text: str | None) -> str:
    """Whitespace-insensitive form, for comparing highlighted text with cue text."""
    return "".join((text or "").split())


CUE_TIME = re.compile(r"<((?:\d+:)?\d{2}:\d{2}\.\d{3})>")


def _cue_text(payload: str) -> str:
    text = re.sub(r"<[^>]*>", "", payload)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_vtt(source: str) -> list[dict[str, object]]:
    """Cues of a WebVTT file, in order: id, start, end, text (tags stripped, entities
    decoded) and phrases: the pieces between cue timestamps, each with start and end."""
    cues = []
    for block in re.split(r"\n{2,}", source.strip()):
        lines = block.splitlines()
        at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if at is None:
            continue
        start, rest = (part.strip() for part in lines[at].split("-->"))
        end = _secs(rest.split()[0])
        payload = " ".join(lines[at + 1 :])
        parts = CUE_TIME.split(payload)
        phrases = [
            {"start": _secs(start) if k == 0 else _secs(parts[k - 1]), "text": _cue_text(part)}
            for k, part in enumerate(parts)
            if k % 2 == 0 and _cue_text(part).strip()
        ]
        for phrase, following in zip(phrases, [*phrases[1:], {"start": end}], strict=True):
            phrase["end"] = following["start"]
        cues.append(
            {
                "id": lines[at - 1] if at else "",
                "start": _secs(start),
                "end": end,
                "text": _cue_text(payload),
                "phrases": phrases if len(phrases) > 1 else [],
            }
        )
    return cues


def _secs(stamp: str) -> float:
    total = 0.0
    for part in stamp.split(":"):
        total = total * 60 + float(part)
    return total


def wait_playing(page, beyond: float = 0.3) -> None:
    """Wait until the player's audio plays past ``beyond`` seconds."""
    page.wait_for_function(
        js("const a = ttsAudio(); return a && !a.paused && a.currentTime > arg;"),
        arg=beyond,
        timeout=30000,
    )


def wait_paused(page) -> None:
    page.wait_for_function(js("const a = ttsAudio(); return a && a.paused;"))


def wait_live(page, message: str) -> None:
    """Wait until the live region says ``message``."""
    page.wait_for_function(js("return ttsLive() === arg;"), arg=message)


def wait_cues(page) -> None:
    page.wait_for_function(js("const r = ttsRoot(); return r && Number(r.dataset.ttsCues) > 0;"))


def vtt_of(page) -> str:
    mp3 = page.get_attribute(".tts-download", "href")
    assert mp3 and mp3.endswith(".mp3")
    return httpx.get(mp3[: -len(".mp3")] + ".vtt", timeout=60).text


def cues_of(page) -> list[dict[str, object]]:
    """The cues of the article the player is reading (one per sentence, with phrases)."""
    return parse_vtt(vtt_of(page))


def open_player(page, site: str, *, highlight: str | None = None) -> list[dict[str, object]]:
    """Open /demo, press "Đọc nội dung", wait for audio and timings; return the cues."""
    page.goto(f"{site}/demo")
    if highlight:
        page.eval_on_selector(READ, "(b, mode) => { b.dataset.ttsHighlight = mode; }", highlight)
    page.click(READ)
    wait_playing(page)
    wait_cues(page)
    return cues_of(page)


def seek_audio(page, t: float) -> None:
    """Move the audio as playback itself would (not a listener's seek)."""
    page.evaluate(js("ttsAudio().currentTime = arg;"), t)


def axe_violations(page, axe_source: str, *, player_only: bool = False) -> list[dict[str, object]]:
    """axe-core's violations (every impact) on the page as it is now, or only in the
    player's own elements (a hostile test page fails axe by design)."""
    if not page.evaluate("() => typeof axe === 'object'"):
        page.evaluate(axe_source)
    return page.evaluate(
        "(mine) => axe.run(mine ? {include: [...document.querySelectorAll('[data-tts-host]')]}"
        " : document, { resultTypes: ['violations'] })"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))",
        player_only,
    )
