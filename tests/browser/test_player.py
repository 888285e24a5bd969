"""The read-aloud player in Chromium: playback, sentence highlight, keyboard, a11y, resume."""

from __future__ import annotations

import re

import httpx
import pytest

PLAYER = ".tts-player"
READ = "[data-tts-read]"

STATE_JS = """() => {
  const root = document.querySelector('.tts-player');
  const audio = root && root.querySelector('audio');
  const api = window.CSS && CSS.highlights && CSS.highlights.get('tts-current');
  const marks = [...document.querySelectorAll('mark.tts-current')];
  let highlight = null;
  if (api && api.size) highlight = [...api].map((r) => r.toString()).join('');
  else if (marks.length) highlight = marks.map((m) => m.textContent).join(' ');
  return {
    t: audio ? audio.currentTime : null,
    paused: audio ? audio.paused : null,
    state: root ? root.dataset.ttsState : null,
    cue: root ? root.dataset.ttsCue || null : null,
    cues: root ? Number(root.dataset.ttsCues || 0) : 0,
    highlight,
    marks: marks.length,
    live: (document.querySelector('.tts-live') || {}).textContent || '',
    focus: document.activeElement && (document.activeElement.getAttribute('aria-label')
      || document.activeElement.textContent.trim()),
  };
}"""

FOCUS_RING_JS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    visible: el.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
  };
}"""


def squash(text: str | None) -> str:
    """Whitespace-insensitive form, for comparing highlighted text with cue text."""
    return "".join((text or "").split())


def parse_vtt(source: str) -> list[dict[str, object]]:
    """Cues of a WebVTT file, in order: id, start, end, text (entities decoded)."""
    cues = []
    for block in re.split(r"\n{2,}", source.strip()):
        lines = block.splitlines()
        at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if at is None:
            continue
        start, end = (part.strip().split()[0] for part in lines[at].split("-->"))
        text = " ".join(lines[at + 1 :])
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        cues.append(
            {
                "id": lines[at - 1] if at else "",
                "start": _secs(start),
                "end": _secs(end),
                "text": text,
            }
        )
    return cues


def _secs(stamp: str) -> float:
    total = 0.0
    for part in stamp.split(":"):
        total = total * 60 + float(part)
    return total


def state(page) -> dict:
    return page.evaluate(STATE_JS)


def open_player(page, site: str, *, highlight: str | None = None) -> list[dict[str, object]]:
    """Open /demo, press "Đọc nội dung", wait for audio and timings; return the VTT cues."""
    page.goto(f"{site}/demo")
    if highlight:
        page.eval_on_selector(READ, "(b, mode) => { b.dataset.ttsHighlight = mode; }", highlight)
    page.click(READ)
    wait_playing(page)
    page.wait_for_function(
        "() => Number(document.querySelector('.tts-player').dataset.ttsCues) > 0"
    )
    return cues_of(page)


def wait_playing(page, beyond: float = 0.3) -> None:
    page.wait_for_function(
        "t => { const a = document.querySelector('.tts-player audio');"
        " return a && !a.paused && a.currentTime > t; }",
        arg=beyond,
        timeout=30000,
    )


def cues_of(page) -> list[dict[str, object]]:
    mp3 = page.get_attribute(".tts-download", "href")
    assert mp3 and mp3.endswith(".mp3")
    return parse_vtt(httpx.get(mp3[: -len(".mp3")] + ".vtt", timeout=60).text)


def current_cue(cues, cue_id):
    return next(cue for cue in cues if cue["id"] == cue_id)


def assert_highlight_matches(page, cues) -> dict:
    now = state(page)
    assert now["cue"], now
    cue = current_cue(cues, now["cue"])
    assert squash(now["highlight"]) == squash(cue["text"]), (now, cue)
    later = [c for c in cues if c["start"] > cue["start"]]
    assert cue["start"] <= now["t"] + 0.05, (now, cue)
    assert not later or now["t"] < later[0]["start"] + 0.5, (now, cue)
    return now


# ----------------------------------------------------------------------------- playback


def test_click_plays_audio_and_highlights_sentences(page, site):
    cues = open_player(page, site)
    first = state(page)
    page.wait_for_timeout(800)
    assert state(page)["t"] > first["t"], "audio.currentTime does not advance"
    assert state(page)["live"] == "Đang đọc"
    assert_highlight_matches(page, cues)
    # The highlight follows the audio by itself across a sentence boundary.
    before = state(page)["cue"]
    boundary = next(c for c in cues if c["id"] != before and c["start"] > state(page)["t"])
    page.evaluate(
        "t => { document.querySelector('.tts-player audio').currentTime = t; }",
        boundary["start"] - 0.6,
    )
    page.wait_for_function(
        "id => document.querySelector('.tts-player').dataset.ttsCue === id", arg=boundary["id"]
    )
    assert_highlight_matches(page, cues)
    # Next sentence and seeking move it too.
    page.click(".tts-next")
    page.wait_for_timeout(300)
    moved = assert_highlight_matches(page, cues)
    assert moved["cue"] != boundary["id"]
    page.focus(".tts-seek")
    page.keyboard.press("PageUp")
    page.wait_for_timeout(400)
    sought = assert_highlight_matches(page, cues)
    assert sought["t"] >= moved["t"] + 25
    assert sought["cue"] != moved["cue"]


@pytest.mark.parametrize("mode", ["auto", "mark"])
def test_every_sentence_is_found_in_the_page(page, site, mode):
    cues = open_player(page, site, highlight=mode)
    page.click(".tts-play")  # pause: the check below steps through sentences by hand
    page.wait_for_function("() => document.querySelector('.tts-player audio').paused")
    page.evaluate("() => { document.querySelector('.tts-player audio').currentTime = 0; }")
    page.wait_for_function("() => document.querySelector('.tts-player').dataset.ttsCue === 's0'")
    seen = []
    for _ in cues:
        now = assert_highlight_matches(page, cues)
        assert (now["marks"] > 0) == (mode == "mark"), now
        seen.append(now["cue"])
        page.click(".tts-next")
        page.wait_for_timeout(60)
    assert seen == [c["id"] for c in cues]
    assert squash(cues[0]["text"]) == squash(page.inner_text("h1"))


def test_mark_fallback_leaves_the_page_intact(page, site):
    page.goto(f"{site}/demo")
    original = page.inner_html(".article-body")
    page.evaluate(
        "() => { window.clicks = 0; document.querySelector('.article-body p')"
        ".addEventListener('click', () => { window.clicks += 1; }); }"
    )
    page.eval_on_selector(READ, "b => { b.dataset.ttsHighlight = 'mark'; }")
    page.click(READ)
    wait_playing(page)
    page.wait_for_selector("mark.tts-current")
    page.click(".tts-next")
    page.click(".article-body p")
    page.click(".tts-close")
    assert page.inner_html(".article-body") == original
    assert page.evaluate("window.clicks") == 1
    assert page.is_visible(READ)


# ----------------------------------------------------------------------------- keyboard


def test_keyboard_alone(page, site):
    page.goto(f"{site}/demo")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('[data-tts-read]')"):
            break
    else:
        pytest.fail("Tab never reached the Đọc nội dung button")
    ring = page.evaluate(FOCUS_RING_JS)
    assert ring["visible"] and ring["outline"] >= 2, ring
    page.keyboard.press("Enter")
    wait_playing(page)
    page.wait_for_function(
        "() => Number(document.querySelector('.tts-player').dataset.ttsCues) > 0"
    )
    cues = cues_of(page)
    assert state(page)["focus"] == "Tạm dừng"

    page.keyboard.press("k")
    page.wait_for_function("() => document.querySelector('.tts-player audio').paused")
    page.wait_for_function(
        "() => document.querySelector('.tts-live').textContent === 'Đã tạm dừng'"
    )
    assert state(page)["focus"] == "Phát"
    page.keyboard.press("k")
    wait_playing(page, 0)

    t0 = state(page)["t"]
    page.keyboard.press("l")
    assert state(page)["t"] >= t0 + 9.5
    page.keyboard.press("j")
    assert abs(state(page)["t"] - t0) < 3
    page.keyboard.press("k")  # paused, so "," below lands within 2 s of the sentence start
    page.wait_for_function("() => document.querySelector('.tts-player audio').paused")
    cue = state(page)["cue"]
    page.keyboard.press(".")
    page.wait_for_timeout(200)
    after = assert_highlight_matches(page, cues)
    assert int(after["cue"][1:]) == int(cue[1:]) + 1
    page.keyboard.press(",")  # within 2 s of its start: back to the sentence before
    page.wait_for_timeout(200)
    assert assert_highlight_matches(page, cues)["cue"] == cue

    labels = []
    for _ in range(16):
        page.keyboard.press("Tab")
        if not page.evaluate("() => !!document.activeElement.closest('.tts-player')"):
            break
        labels.append(state(page)["focus"])
        ring = page.evaluate(FOCUS_RING_JS)
        assert ring["visible"] and ring["outline"] >= 2, (labels[-1], ring)
    expected = [
        "Tiến 10 giây", "Câu sau", "Vị trí đọc", "Tốc độ đọc", "Âm lượng", "Tải MP3",
        "Tự cuộn", "Đóng trình đọc", "Phím tắt",
    ]  # fmt: skip
    assert labels == expected, labels
    for _ in range(len(expected) + 1):
        page.keyboard.press("Shift+Tab")
    assert state(page)["focus"] == "Phát"
    for label in ("Lùi 10 giây", "Câu trước"):
        page.keyboard.press("Shift+Tab")
        assert state(page)["focus"] == label
        assert page.evaluate(FOCUS_RING_JS)["outline"] >= 2

    # Speed from the keyboard, then close and land back on the button.
    page.focus(".tts-rate")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.querySelector('.tts-player audio').playbackRate") == 1.25
    page.focus(".tts-close")
    page.keyboard.press("Enter")
    assert page.query_selector(PLAYER) is None
    assert page.evaluate("() => document.activeElement.matches('[data-tts-read]')")
    page.wait_for_function(
        "() => document.querySelector('.tts-live').textContent === 'Đã đóng trình đọc'"
    )


def test_controls_are_labelled_in_vietnamese(page, site):
    open_player(page, site)
    group = page.locator("[role=group][aria-label='Trình đọc nội dung']")
    assert group.count() == 1
    for label, keys in [
        ("Tạm dừng", "K"), ("Câu trước", ","), ("Câu sau", "."), ("Lùi 10 giây", "J"),
        ("Tiến 10 giây", "L"), ("Tốc độ đọc", None), ("Âm lượng", None), ("Tải MP3", None),
        ("Đóng trình đọc", None),
    ]:  # fmt: skip
        control = group.locator(f"[aria-label='{label}']")
        assert control.count() == 1, label
        if keys:
            assert control.get_attribute("aria-keyshortcuts") == keys
    assert group.locator("button.tts-play").get_attribute("type") == "button"
    page.wait_for_function(
        "() => / trên \\d+ phút/.test("
        "document.querySelector('.tts-seek').getAttribute('aria-valuetext'))"
    )
    text = page.get_attribute(".tts-seek", "aria-valuetext")
    assert re.fullmatch(r"(\d+ phút )?\d+ giây trên \d+ phút( \d+ giây)?|\d+ phút trên .+", text), (
        text
    )
    assert page.evaluate("window.ttsPlayer.spoken(65)") == "1 phút 5 giây"
    assert page.evaluate("window.ttsPlayer.spoken(240)") == "4 phút"
    assert page.get_attribute(".tts-live", "aria-live") == "polite"


# ------------------------------------------------------------------------------ resume


def test_resume_offer_after_reload(page, site):
    open_player(page, site)
    page.focus(".tts-play")
    for _ in range(3):
        page.keyboard.press("l")
    page.wait_for_timeout(300)
    page.keyboard.press("k")
    page.wait_for_function("() => document.querySelector('.tts-player audio').paused")
    saved = state(page)["t"]
    assert saved > 25
    page.reload()
    page.click(READ)
    offer = page.wait_for_selector(".tts-resume:not([hidden])")
    minutes, seconds = divmod(int(saved), 60)
    assert offer.inner_text().startswith(f"Tiếp tục từ {minutes}:{seconds:02d}?")
    assert state(page)["focus"] == "Tiếp tục"
    assert state(page)["paused"], "must not play before the listener chooses"
    page.keyboard.press("Enter")
    wait_playing(page, saved - 1)
    assert abs(state(page)["t"] - saved) < 3

    page.reload()
    page.click(READ)
    page.click(".tts-resume-no")
    wait_playing(page, 0)
    assert state(page)["t"] < 5


# ---------------------------------------------------------------------- other audio


def test_pauses_when_other_audio_starts(page, site):
    open_player(page, site)
    mp3 = page.get_attribute(".tts-download", "href")
    page.evaluate(
        "src => { const a = document.createElement('audio'); a.id = 'other'; a.src = src;"
        " a.volume = 0; document.body.append(a); a.play(); }",
        mp3,
    )
    page.wait_for_function("() => document.querySelector('.tts-player audio').paused")
    page.wait_for_function(
        "() => document.querySelector('.tts-live').textContent.startsWith('Đã tạm dừng')"
    )
    # And pressing play again pauses the page's other audio.
    page.click(".tts-play")
    wait_playing(page, 0)
    page.wait_for_function("() => document.getElementById('other').paused")


def test_busy_service_is_announced(page, site):
    page.route(
        "**/v1/read",
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "30", "Content-Type": "application/json"},
            body='{"detail": "busy"}',
        ),
    )
    page.goto(f"{site}/demo")
    page.click(READ)
    message = "Hệ thống đọc đang bận, vui lòng thử lại sau."
    page.wait_for_selector(".tts-message")
    assert page.inner_text(".tts-message") == message
    page.wait_for_function(
        "m => document.querySelector('.tts-live').textContent === m", arg=message
    )
    assert page.get_attribute(READ, "aria-disabled") is None
    assert page.inner_text(READ) == "Đọc nội dung"


# ----------------------------------------------------------------------- accessibility


def test_axe_finds_no_serious_violations(browser, site, axe_source):
    context = browser.new_context(bypass_csp=True, viewport={"width": 1100, "height": 800})
    try:
        page = context.new_page()
        open_player(page, site)
        page.click(".tts-play")
        page.click(".tts-help summary")
        page.evaluate(axe_source)
        results = page.evaluate(
            "() => axe.run(document, { resultTypes: ['violations'] })"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
        )
    finally:
        context.close()
    serious = [v for v in results if v["impact"] in ("serious", "critical")]
    assert not serious, serious


CONTRAST_JS = """() => {
  const opaque = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor;
      if (!/rgba\\(.*, 0\\)$|transparent/.test(c) && !/rgba\\(.*, 0?\\.\\d+\\)$/.test(c)) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const out = [];
  const root = document.querySelector('.tts-player');
  for (const el of [root, ...root.querySelectorAll('*')]) {
    if (!el.getClientRects().length) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
    const icon = el.matches('svg.tts-icon');
    if (!own && !icon) continue;
    const host = icon ? el.parentElement : el;
    out.push({ what: `${host.className} ${host.textContent.trim().slice(0, 20)}`,
               fg: getComputedStyle(host).color, bg: opaque(host), icon });
  }
  return out;
}"""

HIGHLIGHT_COLOURS_JS = """() => {
  for (const sheet of document.styleSheets) {
    for (const rule of sheet.cssRules) {
      if (rule.selectorText && rule.selectorText.includes('::highlight(tts-current)'))
        return [rule.style.color, rule.style.backgroundColor];
    }
  }
  return null;
}"""


def _contrast(fg: tuple[int, ...], bg: tuple[int, ...]) -> float:
    def lum(rgb):
        parts = [c / 255 for c in rgb]
        parts = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _rgb(css: str) -> tuple[int, ...]:
    if css.startswith("#"):
        return tuple(int(css[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])


def test_contrast(page, site):
    open_player(page, site, highlight="mark")
    page.click(".tts-play")
    page.click(".tts-help summary")
    items = page.evaluate(CONTRAST_JS)
    assert len(items) > 10
    for item in items:
        item["ratio"] = round(_contrast(_rgb(item["fg"]), _rgb(item["bg"])), 2)
    low = [item for item in items if item["ratio"] < (3 if item["icon"] else 4.5)]
    assert not low, low
    ring, panel = page.eval_on_selector(
        PLAYER,
        "p => [getComputedStyle(p).getPropertyValue('--tts-focus').trim(),"
        " getComputedStyle(p).backgroundColor]",
    )
    assert _contrast(_rgb(ring), _rgb(panel)) >= 3, (ring, panel)
    colours = page.eval_on_selector(
        "mark.tts-current", "m => [getComputedStyle(m).color, getComputedStyle(m).backgroundColor]"
    )
    assert _contrast(_rgb(colours[0]), _rgb(colours[1])) >= 4.5, colours
    api = page.evaluate(HIGHLIGHT_COLOURS_JS)
    assert api is not None
    assert _contrast(_rgb(api[0]), _rgb(api[1])) >= 4.5, api


def test_forced_colors_keep_controls_visible(page, site):
    page.emulate_media(forced_colors="active")
    open_player(page, site)
    styles = page.evaluate(
        "() => [...document.querySelectorAll('.tts-player .tts-btn')]"
        ".map(b => getComputedStyle(b).borderTopStyle)"
    )
    assert styles and all(style != "none" for style in styles), styles


def test_no_horizontal_scroll_at_200_percent_zoom(browser, site):
    # 640 CSS px at 200% zoom lays out in 320 CSS px, as WCAG 1.4.10 asks.
    context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=2)
    try:
        page = context.new_page()
        open_player(page, site)
        page.click(".tts-play")
        page.click(".tts-help summary")
        sizes = page.evaluate(
            "() => ({scroll: document.documentElement.scrollWidth, width: innerWidth,"
            " player: document.querySelector('.tts-player').getBoundingClientRect().right,"
            " hidden: [...document.querySelectorAll('.tts-player button, .tts-player input,"
            " .tts-player select, .tts-player a')].filter(e => {"
            " const r = e.getBoundingClientRect(); return r.width === 0 || r.right > innerWidth;"
            " }).map(e => e.className)})"
        )
    finally:
        context.close()
    assert sizes["scroll"] <= sizes["width"] == 320, sizes
    assert sizes["player"] <= 320, sizes
    assert not sizes["hidden"], sizes


def test_reduced_motion_scrolls_without_animation(browser, site):
    jumps = {}
    for motion in ("reduce", "no-preference"):
        context = browser.new_context(
            viewport={"width": 1100, "height": 500}, reduced_motion=motion
        )
        try:
            page = context.new_page()
            open_player(page, site)
            jumps[motion] = page.evaluate(
                "() => { const p = [...window.ttsPlayer.players][0]; const y = scrollY;"
                " p.seekTo(p.cues[p.cues.length - 1].start + 0.1); return scrollY - y; }"
            )
            spinner = page.evaluate(
                "() => { const s = document.createElement('span'); s.className = 'tts-spinner';"
                " document.body.append(s); return getComputedStyle(s).animationName; }"
            )
            assert (spinner == "none") == (motion == "reduce"), spinner
        finally:
            context.close()
    assert jumps["reduce"] > 0, "with reduced motion the jump to the sentence is immediate"
    assert jumps["no-preference"] == 0, "otherwise it scrolls smoothly (not yet moved)"
