"""Issue 14's defects 1–7, each found in a real browser: every test here failed before its fix."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.browser.support import (
    READ,
    cues_of,
    js,
    open_player,
    seek_audio,
    state,
    wait_cues,
    wait_live,
    wait_paused,
    wait_playing,
)
from tests.browser.test_player import _contrast, _rgb


def test_pause_before_playback_starts_is_a_pause_not_a_failure(page, portal):
    # Defect 1: the audio never arrives (a loopback socket that accepts and never answers),
    # so the listener presses pause while it is still loading.
    with socket.socket() as stall:
        stall.bind(("127.0.0.1", 0))
        stall.listen(8)
        port = stall.getsockname()[1]

        def slow_audio(route):
            answer = route.fetch()
            body = answer.json()
            body["audio_url"] = f"http://127.0.0.1:{port}/never.mp3"
            route.fulfill(response=answer, json=body)

        page.clock.install()
        page.route("**/v1/read", slow_audio)
        page.goto(portal("plain.html"))
        page.click(READ)
        page.wait_for_function(
            js("const r = ttsRoot(); return r && r.dataset.ttsState === 'loading';")
        )
        page.wait_for_function(js("return ttsFind('.tts-play').ariaLabel === 'Tạm dừng';"))
        page.click(".tts-play")
        page.clock.run_for(500)
        wait_live(page, "Đã tạm dừng")
        now = state(page)
        assert (now["state"], now["status"], now["paused"]) == ("paused", "Đã tạm dừng", True)
        assert page.get_attribute(".tts-play", "aria-label") == "Phát"
        # Minutes later nothing has failed, so nothing says so.
        page.clock.fast_forward(90_000)
        page.clock.run_for(500)
        later = state(page)
        assert (later["state"], later["status"], later["live"]) == (
            "paused",
            "Đã tạm dừng",
            "Đã tạm dừng",
        ), later


def test_auto_scroll_keeps_the_focused_control_in_view(browser, site):
    # Defect 2: with the seek bar focused, following the sentences must not leave it off screen.
    context = browser.new_context(viewport={"width": 1100, "height": 600}, reduced_motion="reduce")
    try:
        page = context.new_page()
        cues = open_player(page, site)
        page.focus(".tts-seek")
        last = cues[-1]
        seek_audio(page, float(last["start"]) + 0.05)
        page.wait_for_function(js("return ttsRoot().dataset.ttsCue === arg;"), arg=last["id"])
        page.wait_for_function("() => scrollY > 200")
        page.wait_for_function(js("return ttsRoot().classList.contains('tts-docked');"))
        box = page.locator(".tts-seek").bounding_box()
        assert box is not None
        assert 0 <= box["y"] and box["y"] + box["height"] <= 600, box
        assert state(page)["focus"] == "Vị trí đọc"
        page.keyboard.press("ArrowLeft")
        assert state(page)["focus"] == "Vị trí đọc"
    finally:
        context.close()


@pytest.mark.axe
def test_page_css_cannot_restyle_the_player(page, portal, axe_source):
    # Defect 3: a portal's aggressive article CSS (with !important) on the page around it.
    from tests.browser.support import axe_violations

    page.goto(portal("hostile.html"))
    own_button = "button.tts-btn:not([data-tts-read])"
    own_style = "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).paddingTop]"
    before = page.eval_on_selector(own_button, own_style)
    page.click(READ)
    wait_playing(page)
    wait_cues(page)
    player = page.locator(".tts-player")
    assert player.is_visible()
    pressed = page.locator(".tts-toggle[aria-pressed=true]").first
    colours = pressed.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor,"
        " getComputedStyle(b).fontSize, getComputedStyle(b).whiteSpace,"
        " b.getBoundingClientRect().height]"
    )
    assert _contrast(_rgb(colours[0]), _rgb(colours[1])) >= 4.5, colours
    assert colours[2] == "15px" and colours[3] == "nowrap", colours
    assert colours[4] < 2 * 15 * 1.6, colours  # one line of text
    icon = page.locator(".tts-play svg").bounding_box()
    assert icon is not None and icon["width"] == 24, icon
    seek = page.locator(".tts-seek").bounding_box()
    assert seek is not None and seek["width"] > 100, seek
    # And the player's CSS does not reach the page's own .tts-btn.
    assert before == ["rgb(207, 227, 247)", "30px"], before
    assert page.eval_on_selector(own_button, own_style) == before
    assert axe_violations(page, axe_source, player_only=True) == []


def test_trigger_button_has_a_default_look_portals_can_override(page, portal):
    # Defect 3: on a page without its own styles the button was a bare grey browser button.
    page.goto(portal("plain.html"))
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('[data-tts-read]')).backgroundColor"
        " === 'rgb(10, 74, 143)'"
    )
    look = page.eval_on_selector(
        READ,
        "b => [getComputedStyle(b).color, b.getBoundingClientRect().height]",
    )
    assert look[0] == "rgb(255, 255, 255)" and look[1] >= 44, look
    page.evaluate("() => document.documentElement.style.setProperty('--tts-button-bg', '#7a0f09')")
    assert (
        page.eval_on_selector(READ, "b => getComputedStyle(b).backgroundColor") == "rgb(122, 15, 9)"
    )
    # While its player is open the button is hidden, whatever display its look gives it.
    page.click(READ)
    wait_cues(page)
    assert not page.is_visible(READ)
    page.click(".tts-close")
    assert page.is_visible(READ)


def test_a_failed_retry_replaces_the_error_instead_of_adding_one(page, site):
    # Defect 4: each retry after a failure added another identical error box.
    calls = []

    def busy(route):
        calls.append(1)
        route.fulfill(
            status=503,
            headers={"Retry-After": "30", "Content-Type": "application/json"},
            body='{"detail": "busy"}',
        )

    page.route("**/v1/read", busy)
    page.goto(f"{site}/demo")
    for attempt in range(1, 4):
        page.click(READ)
        page.wait_for_function(
            "n => !document.querySelector('[data-tts-read]').hasAttribute('aria-busy')"
        )
        assert len(calls) == attempt
        page.wait_for_selector(".tts-message")
    assert page.locator(".tts-message").count() == 1
    assert page.inner_text(".tts-message") == "Hệ thống đọc đang bận, vui lòng thử lại sau."


def test_resume_offer_shows_and_says_the_same_time_and_highlights_nothing(page, site):
    # Defect 5: "1:02" on screen, "1 phút 3 giây" spoken; and the title lit up meanwhile.
    open_player(page, site)
    mp3 = page.get_attribute(".tts-download", "href")
    article = mp3.rsplit("/", 1)[1][: -len(".mp3")]
    page.click(".tts-close")
    page.evaluate(
        "id => localStorage.setItem('tts-player:pos:' + id,"
        " JSON.stringify({t: 62.6, d: null, at: Date.now()}))",
        article,
    )
    page.reload()
    page.click(READ)
    page.wait_for_selector(".tts-resume:not([hidden])")
    wait_live(page, "Lần trước bạn nghe đến 1 phút 2 giây. Tiếp tục từ 1 phút 2 giây?")
    assert page.inner_text(".tts-resume-text") == "Tiếp tục từ 1:02?"
    wait_cues(page)
    now = state(page)
    assert (now["cue"], now["highlight"], now["marks"]) == (None, None, 0), now


def test_focused_seek_bar_stays_quiet_during_playback(page, site):
    # Defect 6: its spoken value changed every 5 s and talked over the article.
    open_player(page, site)
    page.focus(".tts-seek")
    before = page.get_attribute(".tts-seek", "aria-valuetext")
    t = state(page)["t"]
    for step in (6, 12, 18):
        seek_audio(page, t + step)
        page.wait_for_function(js("return ttsAudio().currentTime > arg;"), arg=t + step - 0.01)
        page.evaluate(js("ttsAudio().dispatchEvent(new Event('timeupdate'));"))
        assert page.get_attribute(".tts-seek", "aria-valuetext") == before
    # The listener's own move is said at once.
    page.keyboard.press("ArrowRight")
    assert page.get_attribute(".tts-seek", "aria-valuetext") != before


def test_player_is_a_named_landmark_and_the_skip_link_is_vietnamese(page, site):
    # Defect 7: a screen-reader user could not jump back to the player.
    open_player(page, site)
    assert page.get_by_role("region", name="Trình đọc bài viết").count() == 1
    link = page.locator("a.skip-link")
    assert link.inner_text() == "Chuyển đến nội dung chính"
    assert link.get_attribute("lang") is None
    assert httpx.get(f"{site}/demo").text.count("Skip to main content") == 0


def test_resume_and_pause_work_on_the_hostile_page_too(page, portal):
    """The hostile page's [hidden] { display: block !important } must not show hidden parts."""
    page.goto(portal("hostile.html"))
    page.click(READ)
    wait_playing(page)
    assert not page.locator(".tts-resume").is_visible()
    page.click(".tts-play")
    wait_paused(page)
    wait_live(page, "Đã tạm dừng")
    assert cues_of(page)
