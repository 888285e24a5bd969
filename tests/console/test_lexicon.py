"""The console's lexicon page over real HTTP: a dry run before every change, exactly the
articles the save re-reads, a try-it sentence, and no lost update between two editors."""

from __future__ import annotations

from tests.console.support import ADMIN, KEY, page_tree
from tests.registry.cms import ADMIN_AUTH, AUTH, wait_job

ENTRY = {"written": "QWZX", "reading": "Quỹ Xanh"}


def _ready(client, article_id, text):
    answer = client.put(f"/v1/articles/{article_id}", json={"text": text}, headers=AUTH)
    assert answer.status_code == 202, answer.text
    assert wait_job(client, answer.json()["job"]["id"])["state"] == "done"


def _form(answer, action, kind=None):
    """The fields of the page's form posting to ``action`` (whose hidden ``action`` field
    is ``kind``, when given), as a browser would send them."""
    tree = page_tree(answer)
    forms = tree.xpath(f"//main//form[@action='{action}']")
    if kind is not None:
        forms = [f for f in forms if f.xpath(f".//input[@name='action' and @value='{kind}']")]
    assert forms, f"no form to {action}"
    return {i.get("name"): i.get("value") or "" for i in forms[0].xpath(".//input[@name]")}


def _lexicon(client):
    return client.get("/v1/lexicon", headers=AUTH).json()["entries"]


def _jobs(client, article_id):
    return client.get(f"/v1/articles/{article_id}", headers=AUTH).json()["job"]


def test_a_change_is_previewed_with_the_articles_it_rereads_then_saved(site, browsers):
    client, _ = site
    _ready(client, "co-tu", "Hội nghị của QWZX khai mạc sáng nay.")
    _ready(client, "khong-co", "Hội nghị khai mạc sáng nay.")
    # Contains the letters, but not the word: it reads the same after the change.
    _ready(client, "chi-giong", "Mã QWZXY được cấp hôm qua.")
    jobs_before = {a: _jobs(client, a)["id"] for a in ("co-tu", "khong-co", "chi-giong")}
    editor = browsers()
    editor.sign_in(ADMIN)
    page = editor.get("/console/lexicon")
    fields = _form(page, "/console/lexicon/preview", "add")
    fields.update(ENTRY, sentence="Đại diện QWZX phát biểu.")
    preview = editor.client.post("/console/lexicon/preview", data=fields)
    assert preview.status_code == 200, preview.text
    tree = page_tree(preview)
    assert tree.xpath("//ul[contains(@class,'affected')]/li/a/text()") == ["co-tu"]
    tried = [t.strip() for t in tree.xpath("//dl[contains(@class,'tried')]//dd/text()")]
    assert tried[0] == "Đại diện QWZX phát biểu."
    assert "Quỹ Xanh" not in tried[1] and "Quỹ Xanh" in tried[2]
    # A dry run: nothing saved, nothing queued.
    assert "QWZX" not in _lexicon(client)
    assert {a: _jobs(client, a)["id"] for a in jobs_before} == jobs_before
    saved = editor.client.post(
        "/console/lexicon/save", data=_form(preview, "/console/lexicon/save")
    )
    assert saved.status_code == 200, saved.text
    assert page_tree(saved).xpath("//ul[contains(@class,'requeued')]/li/a/text()") == ["co-tu"]
    assert _lexicon(client)["QWZX"] == "Quỹ Xanh"
    requeued = _jobs(client, "co-tu")
    assert requeued["id"] != jobs_before["co-tu"] and requeued["reason"] == "lexicon"
    assert _jobs(client, "chi-giong")["id"] == jobs_before["chi-giong"]
    rows = page_tree(saved).xpath("//table[contains(@class,'lexicon')]//tr[th[@scope='row']]")
    assert [(r.xpath("string(th)"), r.xpath("string(td[1])")) for r in rows] == [
        ("QWZX", "Quỹ Xanh")
    ]


def test_editing_and_removing_an_entry(site, browsers):
    client, _ = site
    answer = client.put("/v1/lexicon", json={"entries": {"QWZX": "Quỹ Xanh"}}, headers=ADMIN_AUTH)
    assert answer.status_code == 200
    editor = browsers()
    editor.sign_in(ADMIN)
    edit_page = editor.get("/console/lexicon", params={"sua": "QWZX"})
    fields = _form(edit_page, "/console/lexicon/preview", "edit")
    assert fields["action"] == "edit" and fields["old"] == "QWZX"
    fields.update(written="QWZX-VN", reading="Quỹ Xanh Việt Nam")
    preview = editor.client.post("/console/lexicon/preview", data=fields)
    assert "Đổi mục «QWZX» thành «QWZX-VN»" in preview.text
    editor.client.post("/console/lexicon/save", data=_form(preview, "/console/lexicon/save"))
    assert _lexicon(client) == {"QWZX-VN": "Quỹ Xanh Việt Nam"}
    remove = _form(editor.get("/console/lexicon"), "/console/lexicon/preview", "remove")
    assert remove["action"] == "remove" and remove["old"] == "QWZX-VN"
    preview = editor.client.post("/console/lexicon/preview", data=remove)
    assert "Xóa mục «QWZX-VN»" in preview.text
    assert _lexicon(client) == {"QWZX-VN": "Quỹ Xanh Việt Nam"}
    editor.client.post("/console/lexicon/save", data=_form(preview, "/console/lexicon/save"))
    assert _lexicon(client) == {}


def test_an_entry_needs_both_sides(browsers, site):
    client, _ = site
    editor = browsers()
    editor.sign_in(ADMIN)
    fields = _form(editor.get("/console/lexicon"), "/console/lexicon/preview", "add")
    fields.update(written="QWZX", reading="   ")
    answer = editor.client.post("/console/lexicon/preview", data=fields)
    assert answer.status_code == 422
    assert "Hãy điền cả cách viết và cách đọc" in answer.text
    assert _lexicon(client) == {}


def test_a_concurrent_edit_is_answered_with_reload_never_lost(site, browsers):
    client, _ = site
    first, second = browsers(), browsers()
    first.sign_in(ADMIN)
    second.sign_in(ADMIN)
    mine = _form(first.get("/console/lexicon"), "/console/lexicon/preview", "add")
    theirs = _form(second.get("/console/lexicon"), "/console/lexicon/preview", "add")
    mine.update(ENTRY)
    theirs.update(written="HĐQT", reading="Hội đồng quản trị")
    my_preview = first.client.post("/console/lexicon/preview", data=mine)
    their_preview = second.client.post("/console/lexicon/preview", data=theirs)
    ok = second.client.post(
        "/console/lexicon/save", data=_form(their_preview, "/console/lexicon/save")
    )
    assert ok.status_code == 200
    late = first.client.post(
        "/console/lexicon/save", data=_form(my_preview, "/console/lexicon/save")
    )
    assert late.status_code == 409
    alert = " ".join(page_tree(late).xpath("//*[@role='alert']//text()"))
    assert "người khác sửa" in alert and "Tải lại" in alert
    # The other editor's change stands; the late one was not written over it.
    assert _lexicon(client) == {"HĐQT": "Hội đồng quản trị"}
    # Previewing from the stale page is refused the same way.
    assert first.client.post("/console/lexicon/preview", data=mine).status_code == 409
    # After reloading, the same change goes through and both entries are kept.
    fresh = {**_form(first.get("/console/lexicon"), "/console/lexicon/preview", "add"), **ENTRY}
    preview = first.client.post("/console/lexicon/preview", data=fresh)
    first.client.post("/console/lexicon/save", data=_form(preview, "/console/lexicon/save"))
    assert _lexicon(client) == {"HĐQT": "Hội đồng quản trị", "QWZX": "Quỹ Xanh"}


def test_a_cms_key_reads_the_lexicon_but_cannot_change_it(site, browsers):
    client, _ = site
    client.put("/v1/lexicon", json={"entries": {"QWZX": "Quỹ Xanh"}}, headers=ADMIN_AUTH)
    editor = browsers()
    editor.sign_in(KEY)
    page = editor.get("/console/lexicon")
    assert page.status_code == 200
    tree = page_tree(page)
    assert not tree.xpath("//form[@action='/console/lexicon/preview']")
    assert tree.xpath("//table[contains(@class,'lexicon')]//th[@scope='row']/text()") == ["QWZX"]
    token = editor.csrf("/console/lexicon")
    etag = client.get("/v1/lexicon", headers=AUTH).json()["etag"]
    fields = {"csrf": token, "etag": etag, "action": "remove", "old": "QWZX"}
    assert editor.client.post("/console/lexicon/preview", data=fields).status_code == 403
    assert editor.client.post("/console/lexicon/save", data=fields).status_code == 403
    assert _lexicon(client) == {"QWZX": "Quỹ Xanh"}


def test_any_key_may_try_a_sentence_against_the_lexicon(site, browsers):
    client, _ = site
    client.put("/v1/lexicon", json={"entries": {"QWZX": "Quỹ Xanh"}}, headers=ADMIN_AUTH)
    editor = browsers()
    editor.sign_in(KEY)
    answer = editor.get("/console/lexicon", params={"thu": "QWZX họp ngày 15/3."})
    said = page_tree(answer).xpath("string(//*[contains(@class,'tried-result')]//span)")
    assert "Quỹ Xanh" in said and "tháng ba" in said


def test_lexicon_entries_are_shown_escaped(site, browsers):
    client, _ = site
    hostile = {'<img src=x onerror="alert(1)">': "<script>alert(2)</script>"}
    assert client.put("/v1/lexicon", json={"entries": hostile}, headers=ADMIN_AUTH).is_success
    editor = browsers()
    editor.sign_in(ADMIN)
    tree = page_tree(editor.get("/console/lexicon"))
    assert not tree.xpath("//img") and not tree.xpath("//*[@onerror]")
    assert len(tree.xpath("//script")) == 1
    row = tree.xpath("//table[contains(@class,'lexicon')]//tbody/tr")[0]
    assert row.xpath("string(th)") == '<img src=x onerror="alert(1)">'
    assert row.xpath("string(td[1])") == "<script>alert(2)</script>"
