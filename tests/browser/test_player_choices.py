"""Read what I choose (selection, from a paragraph), the settings panel, Media Session,
and axe-core in every one of those states."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.support import (
    READ,
    axe_violations,
    cues_of,
    js,
    open_player,
    parse_vtt,
    squash,
    state,
    wait_cues,
    wait_live,
    wait_paused,
    wait_playing,
)

SELECT_JS = """([selector, from, to]) => {
  const node = document.querySelector(selector).firstChild;
  const start = node.data.indexOf(from);
  const end = node.data.indexOf(to) + to.length;
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, end);
  const selection = document.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return selection.toString();
}"""


def _no_violations(page, axe_source):
    assert axe_violations(page, axe_source) == []


@pytest.mark.axe
def test_reads_exactly_the_selected_text(page, site, axe_source):
    page.goto(f"{site}/demo")
    chosen = page.evaluate(
        SELECT_JS,
        [".article-body p:nth-of-type(2)", "Tại Hội nghị", "đã chủ trì Hội nghị."],
    )
    requests = []
    page.on(
        "request",
        lambda r: requests.append(r.post_data_json) if r.url.endswith("/v1/read") else None,
    )
    pick = page.locator(".tts-pick")
    pick.wait_for()
    assert pick.inner_text() == "Đọc đoạn chọn"
    assert pick.get_attribute("aria-keyshortcuts") == "Alt+Shift+D"
    _no_violations(page, axe_source)
    pick.click()
    wait_playing(page)
    wait_cues(page)
    assert [r["text"] for r in requests] == [" ".join(chosen.split())]
    assert requests[0]["title"].endswith("(đoạn chọn)")
    cues = cues_of(page)
    assert squash("".join(c["text"] for c in cues)) == squash(chosen)
    now = state(page)
    assert squash(now["highlight"]) == squash(cues[0]["text"]), now
    assert not page.locator(".tts-pick").is_visible()
    _no_violations(page, axe_source)
    # The same selection again is the same audio, from the cache.
    again = httpx.post(f"{site}/v1/read", json=requests[0], timeout=60).json()
    assert again["audio_url"] == page.get_attribute(".tts-download", "href")


def test_keyboard_reads_the_selection(page, site):
    page.goto(f"{site}/demo")
    chosen = page.evaluate(
        SELECT_JS, [".article-body p:last-of-type", "Kết luận Hội nghị", "đơn vị trong"]
    )
    page.keyboard.press("Alt+Shift+D")
    wait_playing(page)
    wait_cues(page)
    assert squash("".join(c["text"] for c in cues_of(page))) == squash(chosen)


@pytest.mark.axe
def test_read_from_here_starts_at_the_paragraphs_first_sentence(page, site, axe_source):
    cues = open_player(page, site)
    controls = page.locator("button.tts-here")
    paragraphs = page.locator(".article-body p, .article-body figcaption, .article-byline").count()
    assert controls.count() == paragraphs >= 4
    assert controls.first.inner_text() == "Đọc từ đây"
    page.click(".tts-play")
    wait_paused(page)
    third = controls.nth(2)
    label = third.get_attribute("aria-label")
    assert label.startswith("Đọc từ đây: ")
    third.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(js("return ttsRoot().dataset.ttsState === 'playing';"))
    now = state(page)
    first_words = label[len("Đọc từ đây: ") : -1]
    cue = next(c for c in cues if c["text"].startswith(first_words))
    assert now["cue"] == cue["id"], now
    assert cue["start"] <= now["t"] < cue["end"]
    _no_violations(page, axe_source)
    # The controls are not read, and go with the player.
    assert "Đọc từ đây" not in "".join(c["text"] for c in cues)
    page.click(".tts-close")
    assert page.locator("button.tts-here").count() == 0


@pytest.mark.axe
def test_settings_are_operable_by_keyboard_and_remembered(page, site, axe_source):
    open_player(page, site)
    settings = page.locator(".tts-settings-btn")
    settings.focus()
    page.keyboard.press("Enter")
    assert settings.get_attribute("aria-expanded") == "true"
    panel = page.get_by_role("group", name="Cài đặt trình đọc")
    assert panel.is_visible()
    assert state(page)["focus"] == "Tốc độ mặc định" or state(page)["focus"].startswith("0,75×")
    _no_violations(page, axe_source)
    page.keyboard.press("ArrowDown")  # 1× → 1,25×
    assert state(page)["rate"] == 1.25
    page.get_by_label("Tương phản cao: chữ vàng trên nền đen").check()
    assert page.evaluate("document.documentElement.dataset.ttsScheme") == "contrast"
    page.get_by_label("Phóng to chữ của đoạn đang đọc").check()
    page.wait_for_function("() => document.querySelectorAll('.tts-enlarged').length === 1")
    page.get_by_label("Tự cuộn theo câu đang đọc").uncheck()
    assert page.get_attribute(".tts-toggle", "aria-pressed") == "false"
    _no_violations(page, axe_source)
    page.get_by_label("Tô sáng câu và cụm từ đang đọc").uncheck()
    assert state(page)["highlight"] is None
    page.keyboard.press("Escape")
    assert settings.get_attribute("aria-expanded") == "false"
    assert state(page)["focus"] == "Cài đặt"

    page.reload()
    assert page.evaluate("document.querySelectorAll('.tts-enlarged').length") == 0
    page.click(READ)
    page.wait_for_selector(".tts-resume:not([hidden]), .tts-player[data-tts-state=playing]")
    page.click(".tts-settings-btn")
    assert page.get_by_label("Tương phản cao: chữ vàng trên nền đen").is_checked()
    assert page.get_by_label("Phóng to chữ của đoạn đang đọc").is_checked()
    assert not page.get_by_label("Tô sáng câu và cụm từ đang đọc").is_checked()
    assert page.get_attribute(".tts-toggle", "aria-pressed") == "false"
    assert page.locator(".tts-opt-rate").input_value() == "1.25"


def test_docked_bar_and_help_pass_axe(browser, site, axe_source):
    context = browser.new_context(
        viewport={"width": 1100, "height": 600}, reduced_motion="reduce", bypass_csp=True
    )
    try:
        page = context.new_page()
        cues = open_player(page, site)
        page.evaluate(js("[...window.ttsPlayer.players][0].seekTo(arg);"), cues[-2]["start"])
        page.wait_for_function(js("return ttsRoot().classList.contains('tts-docked');"))
        page.click(".tts-more")
        page.click(".tts-help summary")
        _no_violations(page, axe_source)
        page.click(".tts-play")
        wait_live(page, "Đã tạm dừng")
        _no_violations(page, axe_source)
    finally:
        context.close()


MEDIA_SESSION_SPY = """
window.mediaActions = {};
const original = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
navigator.mediaSession.setActionHandler = (action, handler) => {
  window.mediaActions[action] = handler;
  original(action, handler);
};
"""


def test_media_session_title_artwork_and_buttons(page, portal):
    page.add_init_script(MEDIA_SESSION_SPY)
    page.goto(portal("hostile.html"))
    page.click(READ)
    wait_playing(page)
    wait_cues(page)
    meta = page.evaluate(
        "() => { const m = navigator.mediaSession.metadata;"
        " return {title: m.title, artist: m.artist, art: m.artwork.map(a => a.src),"
        " state: navigator.mediaSession.playbackState}; }"
    )
    site = page.get_attribute(".tts-download", "href").split("/v1/")[0]
    assert meta == {
        "title": "Sở Nội vụ tổ chức tập huấn công tác văn thư, lưu trữ năm 2024",
        "artist": "localhost",
        "art": [f"{site}/static/og-test.png"],
        "state": "playing",
    }
    actions = page.evaluate("Object.keys(window.mediaActions).sort()")
    assert actions == [
        "nexttrack", "pause", "play", "previoustrack", "seekbackward", "seekforward", "seekto",
    ]  # fmt: skip
    cues = parse_vtt(httpx.get(site + "/v1/audio/" + _article(page) + ".vtt", timeout=60).text)
    page.evaluate("() => window.mediaActions.pause()")
    wait_paused(page)
    assert page.evaluate("navigator.mediaSession.playbackState") == "paused"
    page.evaluate("() => window.mediaActions.nexttrack()")
    page.wait_for_function(js("return ttsRoot().dataset.ttsCue === 's1';"))
    page.evaluate("t => window.mediaActions.seekto({seekTime: t})", cues[3]["start"] + 0.2)
    page.wait_for_function(js("return ttsRoot().dataset.ttsCue === 's3';"))
    page.evaluate("() => window.mediaActions.play()")
    wait_playing(page, cues[3]["start"])
    page.click(".tts-close")
    assert page.evaluate("navigator.mediaSession.metadata") is None


def _article(page) -> str:
    return page.get_attribute(".tts-download", "href").rsplit("/", 1)[1][: -len(".mp3")]
