"""The read-aloud player in Chromium: playback, sentence highlight, keyboard, a11y, resume."""

from __future__ import annotations

import re

import pytest

from tests.browser.support import (
    READ,
    cues_of,
    js,
    open_player,
    squash,
    state,
    wait_cues,
    wait_live,
    wait_paused,
    wait_playing,
)

PLAYER = ".tts-player"

FOCUS_RING_JS = js(
    """
  const el = ttsActive();
  const style = getComputedStyle(el);
  return {
    visible: el.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
  };"""
)


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
    page.evaluate(js("ttsAudio().currentTime = arg;"), boundary["start"] - 0.6)
    page.wait_for_function(js("return ttsRoot().dataset.ttsCue === arg;"), arg=boundary["id"])
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
    wait_paused(page)
    page.evaluate(js("ttsAudio().currentTime = 0;"))
    page.wait_for_function(js("return ttsRoot().dataset.ttsCue === 's0';"))
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
    wait_cues(page)
    cues = cues_of(page)
    assert state(page)["focus"] == "Tạm dừng"

    page.keyboard.press("k")
    wait_paused(page)
    wait_live(page, "Đã tạm dừng")
    assert state(page)["focus"] == "Phát"
    page.keyboard.press("k")
    wait_playing(page, 0)

    t0 = state(page)["t"]
    page.keyboard.press("l")
    assert state(page)["t"] >= t0 + 9.5
    page.keyboard.press("j")
    assert abs(state(page)["t"] - t0) < 3
    page.keyboard.press("k")  # paused, so "," below lands within 2 s of the sentence start
    wait_paused(page)
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
        if not state(page)["inPlayer"]:
            break
        labels.append(state(page)["focus"])
        ring = page.evaluate(FOCUS_RING_JS)
        assert ring["visible"] and ring["outline"] >= 2, (labels[-1], ring)
    expected = [
        "Tiến 10 giây", "Câu sau", "Vị trí đọc", "Tốc độ đọc", "Âm lượng", "Tải MP3",
        "Tự cuộn", "Cài đặt", "Đóng trình đọc", "Phím tắt",
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
    assert state(page)["rate"] == 1.25
    page.focus(".tts-close")
    page.keyboard.press("Enter")
    assert page.query_selector(PLAYER) is None
    assert page.evaluate("() => document.activeElement.matches('[data-tts-read]')")
    wait_live(page, "Đã đóng trình đọc")


def test_controls_are_labelled_in_vietnamese(page, site):
    open_player(page, site)
    group = page.get_by_role("region", name="Trình đọc bài viết")
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
        js("return / trên \\d+ phút/.test(ttsFind('.tts-seek').getAttribute('aria-valuetext'));")
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
    wait_paused(page)
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
    wait_paused(page)
    page.wait_for_function(js("return ttsLive().startsWith('Đã tạm dừng');"))
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
    wait_live(page, message)
    assert page.get_attribute(READ, "aria-disabled") is None
    assert page.inner_text(READ) == "Đọc nội dung"


# ----------------------------------------------------------------------- accessibility


def test_axe_finds_no_violations(browser, site, axe_source):
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
    assert results == [], results


CONTRAST_JS = js(
    """
  const opaque = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor;
      if (!/rgba\\(.*, 0\\)$|transparent/.test(c) && !/rgba\\(.*, 0?\\.\\d+\\)$/.test(c)) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const out = [];
  const root = ttsRoot();
  for (const el of [root, ...root.querySelectorAll('*')]) {
    if (!el.getClientRects().length) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
    const icon = el.matches('svg.tts-icon');
    if (!own && !icon) continue;
    const host = icon ? el.parentElement : el;
    out.push({ what: `${host.className} ${host.textContent.trim().slice(0, 20)}`,
               fg: getComputedStyle(host).color, bg: opaque(host), icon });
  }
  return out;"""
)

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
        js(
            "return [...ttsRoot().querySelectorAll('.tts-btn')]"
            ".filter(b => b.getClientRects().length)"
            ".map(b => getComputedStyle(b).borderTopStyle);"
        )
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
        page.click(".tts-settings-btn")
        sizes = page.evaluate(
            js(
                "return {scroll: document.documentElement.scrollWidth, width: innerWidth,"
                " player: ttsRoot().getBoundingClientRect().right,"
                " hidden: [...ttsRoot().querySelectorAll('button, input, select, a')]"
                ".filter(e => getComputedStyle(e).display !== 'none' && !e.closest('[hidden]'))"
                ".filter(e => {"
                " const r = e.getBoundingClientRect();"
                " return r.width === 0 || r.right > innerWidth;"
                " }).map(e => e.className)};"
            )
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
