"""The console in headless Chromium: axe-core finds no violations on any page, everything
works by keyboard, and the sentence being heard is highlighted under the page's strict
Content-Security-Policy (no script error, no policy violation)."""

from __future__ import annotations

import pytest

from tests.browser.support import axe_violations
from tests.registry.cms import ADMIN, AUTH, wait_job

TEXT = (
    "Sáng 15/3, UBND tỉnh và Cty XKLĐ QWZX họp với T.Ư về dự án IoT.\n\n"
    "Đoàn gồm 12 người. Hội nghị kết thúc lúc 11 giờ."
)


@pytest.fixture
def console(site):
    """The console's base URL, with one article read and the lexicon holding one entry."""
    client, _ = site
    answer = client.put("/v1/articles/bai-1", json={"text": TEXT, "title": "Họp"}, headers=AUTH)
    assert wait_job(client, answer.json()["job"]["id"])["state"] == "done"
    # Some listening, so the article page shows its figures and stops chart too.
    for event in ({"event": "play"}, {"event": "stop", "sentence": 1, "seconds": 4}):
        assert client.post("/v1/listens", json={"article": "bai-1", **event}).status_code == 204
    client.put(
        "/v1/lexicon",
        json={"entries": {"XKLĐ": "xuất khẩu lao động"}},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    return str(client.base_url)


def _page(browser, *, bypass_csp: bool):  # noqa: F811 - the fixture's value
    context = browser.new_context(locale="vi-VN", bypass_csp=bypass_csp)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Script errors, CSP violations and failed loads of the console's own files; a
    # missing favicon (the browser asks for one on its own) is not the console's.
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    page.on(
        "response",
        lambda answer: (
            problems.append(f"{answer.status} {answer.url}")
            if answer.status >= 400 and not answer.url.endswith("/favicon.ico")
            else None
        ),
    )
    return context, page, problems


def _sign_in_by_keyboard(page, base):
    page.goto(f"{base}/console/")
    assert page.url.endswith("/console/sign-in")
    # Tab from the top: the skip link comes first, then the key field.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Chuyển đến nội dung chính"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the brand link
    assert page.evaluate("document.activeElement.id") == "khoa"
    page.keyboard.type(ADMIN)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/console/articles")


def test_every_console_page_passes_axe(browser, axe_source, console):  # noqa: F811
    # axe-core injects its own script and styles: this context bypasses the page's CSP.
    context, page, _ = _page(browser, bypass_csp=True)
    try:
        page.goto(f"{console}/console/sign-in")
        assert axe_violations(page, axe_source) == []
        # A refused key shows its message: the page with the alert passes too.
        page.fill("#khoa", "sai-khoa-0123456789abcdef")
        page.click("button[type=submit]")
        assert page.locator("[role=alert]").count() == 1
        assert axe_violations(page, axe_source) == []
        page.fill("#khoa", ADMIN)
        page.click("button[type=submit]")
        page.wait_for_url(f"{console}/console/articles")
        for path in (
            "/console/articles",
            "/console/articles?q=khong-co&status=failed",
            "/console/articles/bai-1",
            "/console/articles/bai-1/delete",
            "/console/dashboard",
            "/console/lexicon",
            "/console/lexicon?sua=XKL%C4%90",
            "/console/lexicon?thu=UBND+h%E1%BB%8Dp.",
        ):
            page.goto(f"{console}{path}")
            assert page.evaluate("document.documentElement.lang") == "vi"
            assert axe_violations(page, axe_source) == [], path
        # The preview of a change, with its dry run.
        page.goto(f"{console}/console/lexicon")
        page.fill("#viet", "QWZX")
        page.fill("#doc", "Quỹ Xanh")
        page.fill("#cau", "QWZX họp.")
        page.click("#sua-muc button[type=submit]")
        page.wait_for_url(f"{console}/console/lexicon/preview")
        assert page.locator(".affected li").all_inner_texts() == ["bai-1"]
        assert axe_violations(page, axe_source) == []
    finally:
        context.close()


def test_the_console_works_by_keyboard_under_its_policy(browser, site, console):  # noqa: F811
    context, page, problems = _page(browser, bypass_csp=False)
    try:
        _sign_in_by_keyboard(page, console)
        # To the article by keyboard: Tab until its link has focus, then Enter.
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "bai-1":
                break
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/console/articles/bai-1")
        # A rewrite is reached by Tab and shows its explanation while focused.
        mark = page.locator("td[data-side=written] mark.rw").first
        mark.focus()
        tip = mark.locator(".tip")
        assert tip.bounding_box()["width"] > 10
        assert "quy tắc" in tip.inner_text()
        # The sentence being heard is highlighted as the audio plays.
        page.evaluate("document.getElementById('am-thanh').currentTime = 0.05")
        page.evaluate("document.getElementById('am-thanh').play()")
        page.wait_for_selector("tr.current[data-cue]")
        # And the phrase being heard inside it, with the CSS Custom Highlight API.
        page.wait_for_function("() => CSS.highlights.has('console-phrase')")
        heard = page.evaluate("() => [...CSS.highlights.get('console-phrase')][0].toString()")
        current = page.locator("tr.current td[data-side=written]")
        assert heard and heard in current.evaluate(
            "cell => [...cell.childNodes].map(n => n.nodeType === 3 ? n.data :"
            " n.firstChild ? n.firstChild.data || '' : '').join('')"
        )
        # Regenerate by keyboard: the live status follows the job to its end.
        engine = site[1].engines["fake"]
        engine.gate.clear()
        # The CMS fixes a typo meanwhile: its new sentence is held at the engine's gate
        # (a regenerate alone would reuse every cached sentence and end at once).
        edited = site[0].put(
            "/v1/articles/bai-1", json={"text": TEXT + " Tin mới cập nhật."}, headers=AUTH
        )
        assert edited.status_code == 202
        page.locator("form[action$='/regenerate'] button").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/console/articles/bai-1?queued=1")
        status = page.locator("#tien-do")
        page.wait_for_function(
            "() => document.getElementById('tien-do').textContent.startsWith('Đang')"
        )
        assert status.get_attribute("role") == "status"
        # The list shows the same reading in progress, and its end without a reload.
        page.goto(f"{console}/console/articles")
        row = page.locator("tr[data-article='bai-1']")
        assert row.get_attribute("data-status") in ("queued", "synthesising")
        engine.gate.set()
        page.wait_for_function(
            "() => document.querySelector(\"tr[data-article='bai-1']\").dataset.status === 'ready'"
        )
        assert row.locator("[data-progress]").inner_text() == "Sẵn sàng"
        assert page.locator("#thong-bao").inner_text() == "Bài bai-1: Sẵn sàng."
        assert problems == []
    finally:
        context.close()


def _sign_in(page, base, key=ADMIN):
    page.goto(f"{base}/console/sign-in")
    page.fill("#khoa", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/articles")


def test_an_expired_session_signs_in_again_and_comes_back(
    browser,  # noqa: F811
    site,
    console,
    registry_db,
):
    context, page, problems = _page(browser, bypass_csp=False)
    try:
        _sign_in(page, console)
        page.goto(f"{console}/console/lexicon")
        # The editor leaves the page open longer than the idle limit.
        idle = site[1].settings.console_idle_s
        registry_db("UPDATE console_sessions SET seen = seen - ?", (idle + 1,))
        page.click("nav a[href='/console/articles']")
        page.wait_for_url(f"{console}/console/sign-in?*")
        assert "Phiên làm việc đã hết hạn" in page.locator("[role=status]").inner_text()
        page.fill("#khoa", ADMIN)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/console/articles")
        assert problems == []
    finally:
        context.close()


def test_two_editors_change_the_lexicon_and_the_second_is_told_to_reload(
    browser,  # noqa: F811
    console,
):
    first_context, first, problems = _page(browser, bypass_csp=False)
    second_context, second, _ = _page(browser, bypass_csp=False)
    try:
        for page in (first, second):
            _sign_in(page, console)
            page.goto(f"{console}/console/lexicon")
        for page, (written, reading) in (
            (first, ("QWZX", "Quỹ Xanh")),
            (second, ("HĐQT", "Hội đồng quản trị")),
        ):
            page.fill("#viet", written)
            page.fill("#doc", reading)
            page.click("#sua-muc button[type=submit]")
            page.wait_for_url(f"{console}/console/lexicon/preview")
        second.get_by_role("button", name="Lưu thay đổi").click()
        second.wait_for_selector("#da-luu")
        first.get_by_role("button", name="Lưu thay đổi").click()
        alert = first.locator("[role=alert]")
        assert "người khác sửa" in alert.inner_text()
        first.get_by_role("link", name="Tải lại từ điển").click()
        first.wait_for_url(f"{console}/console/lexicon")
        rows = first.locator("table.lexicon tbody th").all_inner_texts()
        assert sorted(rows) == ["HĐQT", "XKLĐ"]  # the other editor's entry, nothing lost
        # The refused save answered 409, as it should; nothing else failed.
        assert problems == [f"409 {console}/console/lexicon/save"]
    finally:
        first_context.close()
        second_context.close()


def _tab_to(page, is_there: str, *, most: int = 60) -> None:
    """Press Tab until ``is_there`` (a JS expression on ``el``) holds for the focused element."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {is_there}; }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {is_there}")


def test_the_lexicon_and_deleting_work_by_keyboard(browser, console):  # noqa: F811
    context, page, problems = _page(browser, bypass_csp=False)
    try:
        _sign_in_by_keyboard(page, console)
        # To the lexicon by its navigation link, then a new entry typed in, previewed
        # (Enter submits the form) and saved, all without the mouse.
        _tab_to(page, "el.textContent.trim() === 'Từ điển'")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/console/lexicon")
        _tab_to(page, "el.id === 'viet'")
        page.keyboard.type("QWZX")
        _tab_to(page, "el.id === 'doc'", most=3)
        page.keyboard.type("Quỹ Xanh")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/console/lexicon/preview")
        _tab_to(page, "el.textContent.trim() === 'Lưu thay đổi'")
        page.keyboard.press("Enter")
        page.wait_for_selector("#da-luu")
        rows = page.locator("table.lexicon tbody th").all_inner_texts()
        assert sorted(rows) == ["QWZX", "XKLĐ"]
        # An article deleted by keyboard, through its confirmation page.
        page.goto(f"{console}/console/articles/bai-1")
        _tab_to(page, "el.textContent.trim() === 'Xóa bài…'")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/console/articles/bai-1/delete")
        _tab_to(page, "el.textContent.trim() === 'Xóa vĩnh viễn'")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/console/articles**")
        assert page.locator("tr[data-article='bai-1']").count() == 0
        assert problems == []
    finally:
        context.close()
