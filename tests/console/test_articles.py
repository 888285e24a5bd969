"""The console's article pages over real HTTP: list, search, filter, pages, one article,
regenerate and delete; each key sees only what it may reach."""

from __future__ import annotations

from tests.console.support import ADMIN, KEY, OTHER, page_tree
from tests.registry.cms import ADMIN_AUTH, AUTH, OTHER_AUTH, wait_job
from tts_service.text.pipeline import normalize
from tts_service.text.unknown import find_unknown

TEXT = "Sáng 15/3, UBND tỉnh và Cty XKLĐ QWZX họp với T.Ư về dự án IoT.\n\nĐoàn gồm 12 người."
HOSTILE_TITLE = '<script>alert("tiêu đề")</script>'
HOSTILE_TEXT = 'Bài có <img src=x "onerror=alert(1)"> và <script>alert(2)</script> trong chữ.'


def _put(client, article_id, auth, text=TEXT, title=None):
    body = {"text": text, **({"title": title} if title else {})}
    answer = client.put(f"/v1/articles/{article_id}", json=body, headers=auth)
    assert answer.status_code in (200, 202), answer.text
    return answer.json()


def _ready(client, article_id, auth, **kwargs):
    job = _put(client, article_id, auth, **kwargs)["job"]
    assert wait_job(client, job["id"], headers=auth)["state"] == "done"


def _listed(answer) -> list[str]:
    assert answer.status_code == 200, answer.text
    return page_tree(answer).xpath("//table[contains(@class,'articles')]//tbody/tr/@data-article")


def test_a_cms_key_sees_only_its_own_articles(site, browsers):
    client, _ = site
    _put(client, "cua-cms", AUTH)
    _put(client, "cua-other", OTHER_AUTH)
    _put(client, "cua-admin", ADMIN_AUTH)
    cms = browsers()
    cms.sign_in(KEY)
    assert _listed(cms.get("/console/articles")) == ["cua-cms"]
    # Another key's article is "not found", on every page and form, and stays.
    assert cms.get("/console/articles/cua-other").status_code == 404
    assert cms.get("/console/articles/cua-other/delete").status_code == 404
    assert cms.get("/console/articles/cua-other/progress").status_code == 404
    assert cms.post("/console/articles/cua-other/regenerate", {}).status_code == 404
    assert cms.post("/console/articles/cua-other/delete", {}).status_code == 404
    assert client.get("/v1/articles/cua-other", headers=OTHER_AUTH).status_code == 200
    assert "cua-other" not in cms.get("/console/articles", params={"q": "cua"}).text
    other = browsers()
    other.sign_in(OTHER)
    assert _listed(other.get("/console/articles")) == ["cua-other"]
    admin = browsers()
    admin.sign_in(ADMIN)
    assert _listed(admin.get("/console/articles")) == ["cua-admin", "cua-cms", "cua-other"]
    assert admin.get("/console/articles/cua-other").status_code == 200


def test_search_by_id_or_title_ignores_case_and_tone_marks(site, browsers):
    client, _ = site
    _put(client, "tin-1", AUTH, title="Khai mạc kỳ họp HĐND tỉnh")
    _put(client, "tin-2", AUTH, title="Thời tiết cuối tuần")
    _put(client, "thoi-su-3", AUTH, title="Giá xăng giảm")
    editor = browsers()
    editor.sign_in(KEY)
    assert _listed(editor.get("/console/articles", params={"q": "hdnd"})) == ["tin-1"]
    assert _listed(editor.get("/console/articles", params={"q": "THỜI TIẾT"})) == ["tin-2"]
    assert _listed(editor.get("/console/articles", params={"q": "thoi"})) == ["thoi-su-3", "tin-2"]
    assert _listed(editor.get("/console/articles", params={"q": "không có"})) == []


def test_status_filter_and_pages(site, browsers):
    client, _ = site
    for n in range(4):
        _ready(client, f"bai-{n}", AUTH, text=f"Bài số {n} đã đăng.")
    # Ready articles, then one more that fails: the engine refuses its text.
    engine = site[1].engines["fake"]
    engine.fail_on = "không đọc được"
    job = _put(client, "bai-loi", AUTH, text="Câu này không đọc được.")["job"]
    assert wait_job(client, job["id"])["state"] == "failed"
    editor = browsers()
    editor.sign_in(KEY)
    first = editor.get("/console/articles")
    assert _listed(first) == ["bai-0", "bai-1", "bai-2"]  # TTS_PAGE_SIZE is 3 here
    tree = page_tree(first)
    assert tree.xpath("//nav[@aria-label='Phân trang']//a[@rel='next']/@href") == [
        "/console/articles?page=2"
    ]
    assert _listed(editor.get("/console/articles", params={"page": 2})) == ["bai-3", "bai-loi"]
    failed = editor.get("/console/articles", params={"status": "failed"})
    assert _listed(failed) == ["bai-loi"]
    assert "Lỗi" in " ".join(page_tree(failed).xpath("//tr[@data-article='bai-loi']//text()"))
    ready = editor.get("/console/articles", params={"status": "ready", "q": "bai"})
    assert _listed(ready) == ["bai-0", "bai-1", "bai-2"]
    # The filter is kept across pages.
    assert page_tree(ready).xpath("//a[@rel='next']/@href") == [
        "/console/articles?q=bai&status=ready&page=2"
    ]
    # A page past the end shows the last one, a made-up status shows them all.
    assert _listed(editor.get("/console/articles", params={"page": 99})) == ["bai-3", "bai-loi"]
    assert len(_listed(editor.get("/console/articles", params={"status": "x"}))) == 3


def test_the_list_shows_status_stale_duration_engine_and_last_change(site, browsers):
    client, _ = site
    _ready(client, "bai", AUTH, title="Tin nóng")
    editor = browsers()
    editor.sign_in(KEY)
    record = client.get("/v1/articles/bai", headers=AUTH).json()
    cells = page_tree(editor.get("/console/articles")).xpath("//tr[@data-article='bai']/*")
    texts = [" ".join(c.itertext()).strip() for c in cells]
    minutes, seconds = divmod(round(record["duration_s"]), 60)
    assert texts[0] == "bai" and texts[1] == "Tin nóng" and texts[2] == "Sẵn sàng"
    assert texts[3] == "Không"
    assert texts[4] == f"{minutes}:{seconds:02d}"
    assert texts[5] == record["engine"]
    assert cells[6].xpath(".//time/@datetime")


def test_the_article_page_pairs_each_sentence_with_what_is_said(site, browsers):
    client, _ = site
    _ready(client, "bai", AUTH)
    editor = browsers()
    editor.sign_in(KEY)
    answer = editor.get("/console/articles/bai")
    tree = page_tree(answer)
    bare = page_tree(answer)  # the same page, its explanations taken out below
    document = normalize(TEXT)
    rows = bare.xpath("//table[contains(@class,'sentences')]/tbody/tr")
    assert len(rows) == len(document.sentences)
    for row, sentence in zip(rows, document.sentences, strict=True):
        written = row.xpath("./td[@data-side='written']")[0]
        spoken = row.xpath("./td[@data-side='spoken']")[0]
        # Without the hidden explanations, each side reads exactly as the normaliser has it.
        for tip in written.xpath(".//span[@class='tip']") + spoken.xpath(".//span[@class='tip']"):
            tip.drop_tree()
        assert written.text_content() == sentence.text
        assert spoken.text_content() == sentence.spoken
        assert row.get("data-cue") == f"s{sentence.index}"
    # Every rewrite is marked on both sides, labelled with its rule.
    rewrites = [r for s in document.sentences for r in s.rewrites]
    marks = tree.xpath("//td[@data-side='written']//mark[contains(@class,'rw')]")
    assert [m.text for m in marks] == [r.source for r in rewrites]
    said = tree.xpath("//td[@data-side='spoken']//mark[contains(@class,'rw')]")
    assert [m.text for m in said] == [r.spoken for r in rewrites]
    tips = [m.xpath("string(.//span[@class='tip'])") for m in marks]
    for rewrite, tip in zip(rewrites, tips, strict=True):
        assert f"đọc là «{rewrite.spoken}»" in tip
        assert "quy tắc:" in tip
    assert all(m.get("tabindex") == "0" for m in marks)  # focus shows the explanation
    # Tokens it could only spell out or leave as written are flagged, and listed.
    unknown = find_unknown(document)
    flagged = tree.xpath("//td[@data-side='written']//mark[contains(@class,'unknown')]/text()")
    assert flagged == [u.token for u in unknown]
    listed = tree.xpath("//ul[contains(@class,'flagged')]/li")
    assert len(listed) == len(unknown)
    # The audio and its timings, the transcript.
    assert tree.xpath("//audio/@src") == ["/v1/articles/bai/audio"]
    assert tree.xpath("//audio/track/@src") == ["/v1/articles/bai/vtt"]
    transcript = tree.xpath("//a[@download]/@href")[0]
    assert client.get(transcript).status_code == 200


def test_titles_and_texts_are_shown_escaped_under_a_strict_policy(site, browsers):
    client, _ = site
    _ready(client, "doc-hai", AUTH, title=HOSTILE_TITLE, text=HOSTILE_TEXT)
    editor = browsers()
    editor.sign_in(KEY)
    for path in (
        "/console/articles",
        "/console/articles/doc-hai",
        "/console/articles/doc-hai/delete",
    ):
        answer = editor.get(path)
        assert answer.status_code == 200, path
        tree = page_tree(answer)
        # The only script is the console's own file; no element has an event handler.
        assert [s.get("src", "") for s in tree.xpath("//script")] == [
            tree.xpath("//script/@src")[0]
        ]
        assert tree.xpath("//script/@src")[0].startswith("/console/static/console.js")
        assert not tree.xpath("//img") and not tree.xpath("//*[@onerror]")
        assert HOSTILE_TITLE in tree.text_content() or path == "/console/articles/doc-hai/delete"
        policy = answer.headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy
        assert answer.headers["x-frame-options"] == "DENY"
    page = editor.get("/console/articles/doc-hai").text
    assert "&lt;script&gt;" in page and '"onerror=' not in page.replace("&#34;", "")


def test_regenerate_queues_a_reading_and_progress_follows_it(site, browsers):
    client, _ = site
    _ready(client, "bai", AUTH)
    before = client.get("/v1/articles/bai", headers=AUTH).json()["job"]["id"]
    editor = browsers()
    editor.sign_in(KEY)
    answer = editor.post("/console/articles/bai/regenerate", {})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/articles/bai?queued=1"
    job = client.get("/v1/articles/bai", headers=AUTH).json()["job"]
    assert job["id"] != before and job["reason"] == "regenerate"
    assert wait_job(client, job["id"])["state"] == "done"
    progress = editor.get("/console/articles/bai/progress").json()
    assert progress["status"] == "ready" and progress["busy"] is False
    assert editor.get(answer.headers["location"]).status_code == 200


def test_delete_asks_first_then_deletes(site, browsers):
    client, _ = site
    _ready(client, "bai", AUTH)
    editor = browsers()
    editor.sign_in(KEY)
    confirm = page_tree(editor.get("/console/articles/bai/delete"))
    assert confirm.xpath("//main//form[@method='post']/@action") == ["/console/articles/bai/delete"]
    assert client.get("/v1/articles/bai", headers=AUTH).status_code == 200  # asking deletes nothing
    answer = editor.post("/console/articles/bai/delete", {})
    assert answer.status_code == 303
    assert client.get("/v1/articles/bai", headers=AUTH).status_code == 404
    listed = editor.get(answer.headers["location"])
    assert "Đã xóa bài «bai»" in listed.text
    assert editor.get("/console/articles/bai").status_code == 404
