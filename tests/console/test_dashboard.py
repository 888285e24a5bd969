"""The console's dashboard over real HTTP: charts drawn by the service, with the numbers
the registry holds, each key's articles only."""

from __future__ import annotations

from tests.console.support import ADMIN, KEY, OTHER, page_tree
from tests.registry.cms import ADMIN_AUTH, AUTH, OTHER_AUTH, wait_job


def _read(client, article_id, auth, text):
    answer = client.put(f"/v1/articles/{article_id}", json={"text": text}, headers=auth)
    assert answer.status_code == 202, answer.text
    return wait_job(client, answer.json()["job"]["id"], headers=auth)["state"]


def _figures(tree, heading_id):
    section = tree.xpath(f"//section[@aria-labelledby='{heading_id}']")[0]
    return {
        li.text.rstrip(": ").strip(): int(li.xpath("string(strong)"))
        for li in section.xpath(".//ul[contains(@class,'figures')]/li[strong]")
    }


def test_the_dashboard_counts_each_keys_articles_and_failures(site, browsers):
    client, service = site
    engine = service.engines["fake"]
    engine.fail_on = "hỏng"
    assert _read(client, "cms-1", AUTH, "Bài một.") == "done"
    assert _read(client, "cms-2", AUTH, "Bài hai.") == "done"
    assert _read(client, "cms-3", AUTH, "Bài hỏng.") == "failed"
    assert _read(client, "other-1", OTHER_AUTH, "Bài hỏng khác.") == "failed"
    assert _read(client, "admin-1", ADMIN_AUTH, "Bài ba.") == "done"
    expected = {
        KEY: ({"Sẵn sàng": 2, "Lỗi": 1}, 1),
        OTHER: ({"Lỗi": 1}, 1),
        ADMIN: ({"Sẵn sàng": 3, "Lỗi": 2}, 2),
    }
    for key, (statuses, failures) in expected.items():
        editor = browsers()
        editor.sign_in(key)
        answer = editor.get("/console/dashboard")
        assert answer.status_code == 200
        tree = page_tree(answer)
        shown = {k: v for k, v in _figures(tree, "theo-trang-thai").items() if v}
        assert shown == statuses, key
        heading = tree.xpath("string(//h2[@id='loi-24h'])")
        assert heading.endswith(f": {failures}"), heading
        hourly = _figures(tree, "loi-24h")
        assert hourly == {"Giờ vừa qua": failures}
        # Each figure is drawn: one bar per status, 24 hourly bars, the cache's gauge.
        charts = tree.xpath("//svg[@aria-hidden='true']")
        assert len(charts) == 4
        assert len(charts[0].xpath(".//rect")) == 4
        assert len(charts[2].xpath(".//rect")) == 24
    # Nothing queued now: the queue chart says so.
    assert _figures(tree, "hang-doi") == {"Đang chờ": 0, "Đang đọc": 0}
    cache = tree.xpath("string(//section[@aria-labelledby='bo-nho']//p)")
    size = service.cache.total_bytes / 2**20
    assert f"{size:.1f}".replace(".", ",") + " MiB" in cache
    share = service.cache.total_bytes / service.cache.max_bytes * 100
    assert f"({share:.1f}%)".replace(".", ",") in cache
