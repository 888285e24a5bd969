"""Signing in: an API key exchanged for a server-side session, over real HTTP.

The cookie is HttpOnly, SameSite=Strict, Secure over HTTPS and holds a random token, never
the key; the database holds only the token's hash. Sessions end when idle, at their
absolute limit and at sign-out; every form needs the session's CSRF token; wrong keys are
counted per client address.
"""

from __future__ import annotations

import hashlib

from tests.console.support import ADMIN, KEY, page_tree
from tts_service.console.routes import COOKIE, SIGNIN_COOKIE


def _cookie_header(answer, name):
    found = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, answer.headers
    return found[0]


def test_signing_in_exchanges_the_key_for_an_httponly_strict_session(browsers, registry_db):
    editor = browsers()
    answer = editor.sign_in(ADMIN)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/articles"
    header = _cookie_header(answer, COOKIE)
    attributes = [part.strip().lower() for part in header.split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/console" in attributes
    assert "secure" not in attributes  # plain HTTP: a Secure cookie would never come back
    token = editor.client.cookies[COOKIE]
    assert ADMIN not in header and token != ADMIN
    # The database holds the token's hash, not the token, and never the key.
    rows = registry_db("SELECT id, key_name, key_digest FROM console_sessions")
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), "admin", rows[0][2])]
    assert ADMIN not in rows[0][2]
    page = editor.get("/console/articles")
    assert page.status_code == 200
    assert ADMIN not in page.text and token not in page.text
    assert page_tree(page).xpath("//header//strong/text()") == ["admin"]


def test_the_cookie_is_secure_when_the_console_is_reached_over_https(browsers):
    editor = browsers()
    # The proxy in front says the browser spoke HTTPS (uvicorn believes loopback proxies).
    https = {"X-Forwarded-Proto": "https"}
    form = editor.client.get("/console/sign-in", headers=https)
    signin_cookie = _cookie_header(form, SIGNIN_COOKIE)
    assert "secure" in [p.strip().lower() for p in signin_cookie.split(";")]
    token = page_tree(form).xpath("//input[@name='csrf']/@value")[0]
    # A browser on HTTPS sends the Secure cookie back; httpx on plain HTTP would not.
    answer = editor.client.post(
        "/console/sign-in",
        data={"csrf": token, "key": KEY},
        headers={**https, "Cookie": signin_cookie.split(";")[0]},
    )
    assert answer.status_code == 303
    attributes = [p.strip().lower() for p in _cookie_header(answer, COOKIE).split(";")]
    assert "secure" in attributes


def test_a_wrong_key_is_refused_in_vietnamese_and_opens_nothing(browsers, registry_db):
    editor = browsers()
    answer = editor.sign_in("not-a-key-0123456789abcdef")
    assert answer.status_code == 403
    tree = page_tree(answer)
    assert tree.get("lang") == "vi"
    alert = " ".join(tree.xpath("//*[@role='alert']//text()"))
    assert "Khóa API không đúng" in alert
    assert COOKIE not in editor.client.cookies
    assert registry_db("SELECT COUNT(*) FROM console_sessions") == [(0,)]
    assert editor.get("/console/articles").status_code == 303


def test_wrong_keys_are_rate_limited_per_client_even_before_a_right_one(browsers):
    editor = browsers()
    # TTS_CONSOLE_SIGNIN_ATTEMPTS is 5 by default.
    for _ in range(5):
        assert editor.sign_in("wrong-key-0123456789abcdef").status_code == 403
    blocked = editor.sign_in(ADMIN)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "quá nhiều lần" in blocked.text
    assert COOKIE not in editor.client.cookies


def test_signing_in_needs_the_forms_token(browsers):
    editor = browsers()
    editor.get("/console/sign-in")
    answer = editor.client.post("/console/sign-in", data={"key": ADMIN, "csrf": "guessed"})
    assert answer.status_code == 403
    assert COOKIE not in editor.client.cookies


def test_pages_ask_to_sign_in_and_come_back_after(browsers):
    editor = browsers()
    answer = editor.get("/console/lexicon")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=%2Fconsole%2Flexicon"
    signed = editor.sign_in(ADMIN, next_path="/console/lexicon")
    assert signed.headers["location"] == "/console/lexicon"


def test_sign_in_never_sends_the_editor_to_another_site(browsers):
    editor = browsers()
    for target in ("https://evil.example/", "//evil.example/console/", "/console/..//evil"):
        signed = editor.sign_in(ADMIN, next_path=target)
        assert signed.headers["location"] == "/console/articles", target
        editor.client.cookies.clear()


def test_forms_without_the_sessions_token_change_nothing(site, browsers, registry_db):
    client, _ = site
    answer = client.put(
        "/v1/articles/bai-1",
        json={"text": "Xin chào bạn đọc."},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert answer.status_code == 202
    editor = browsers()
    editor.sign_in(ADMIN)
    jobs = registry_db("SELECT COUNT(*) FROM jobs")
    other = browsers()
    other.sign_in(ADMIN)
    for token in ("", "forged", other.csrf()):  # another session's token is no better
        refused = editor.post("/console/articles/bai-1/regenerate", {}, token=token)
        assert refused.status_code == 403, token
        assert "hãy tải lại trang" in refused.text
        deleted = editor.post("/console/articles/bai-1/delete", {}, token=token)
        assert deleted.status_code == 403
    assert registry_db("SELECT COUNT(*) FROM jobs") == jobs
    assert registry_db("SELECT id FROM articles") == [("bai-1",)]
    # With its own token the same form works.
    assert editor.post("/console/articles/bai-1/regenerate", {}).status_code == 303


def test_an_idle_session_expires(site, browsers, registry_db):
    _, service = site
    editor = browsers()
    editor.sign_in(KEY)
    assert editor.get("/console/articles").status_code == 200
    idle = service.settings.console_idle_s
    # The editor was away a second longer than the idle limit.
    registry_db(
        "UPDATE console_sessions SET seen = seen - ?, created = created - ?", (idle + 1,) * 2
    )
    answer = editor.get("/console/articles")
    assert answer.status_code == 303
    assert "expired=1" in answer.headers["location"]
    assert registry_db("SELECT COUNT(*) FROM console_sessions") == [(0,)]
    page = editor.get(answer.headers["location"])
    assert "Phiên làm việc đã hết hạn" in page.text


def test_a_busy_session_still_ends_at_its_absolute_limit(site, browsers, registry_db):
    _, service = site
    editor = browsers()
    editor.sign_in(KEY)
    limit = service.settings.console_session_max_s
    # Signed in longer ago than the limit, yet active a moment ago.
    registry_db("UPDATE console_sessions SET created = created - ?", (limit + 1,))
    assert editor.get("/console/articles").status_code == 303
    # A session just inside both limits lives on.
    editor.sign_in(KEY)
    registry_db("UPDATE console_sessions SET created = created - ?", (limit - 60,))
    assert editor.get("/console/articles").status_code == 200


def test_signing_out_ends_the_session_for_good(browsers, registry_db):
    editor = browsers()
    editor.sign_in(KEY)
    token = editor.client.cookies[COOKIE]
    answer = editor.post("/console/sign-out", {})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?out=1"
    assert registry_db("SELECT COUNT(*) FROM console_sessions") == [(0,)]
    # The old cookie, replayed, opens nothing.
    thief = browsers()
    thief.client.cookies.set(COOKIE, token, path="/console")
    assert thief.get("/console/articles").status_code == 303


def test_a_session_ends_when_its_key_is_rotated(browsers, registry_db):
    editor = browsers()
    editor.sign_in(KEY)
    assert editor.get("/console/articles").status_code == 200
    # The key the session was opened with is no longer the configured one (its value
    # changed in TTS_API_KEYS): the session opens nothing more.
    registry_db("UPDATE console_sessions SET key_digest = ?", ("0" * 64,))
    assert editor.get("/console/articles").status_code == 303
    assert registry_db("SELECT COUNT(*) FROM console_sessions") == [(0,)]
