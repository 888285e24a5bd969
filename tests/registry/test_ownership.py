"""Keys own their articles: every keyed route, for each role, over real HTTP.

Three keys: two portals' CMSes (``cms`` and ``other``, role cms) and an editor-in-chief
(``admin``). A CMS key reaches only what it registered; another key's article or job is
"not found", word for word as one that does not exist; the lexicon is the admins'. A
refused request changes nothing: the registry's rows are compared before and after.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import decode_seconds
from tests.registry.cms import (
    ADMIN_AUTH,
    ARTICLE,
    AUTH,
    KEYS,
    OTHER_AUTH,
    register,
    wait_job,
)
from tests.registry.test_store import legacy_registry
from tts_service.registry.db import COMPONENT
from tts_service.registry.store import ArticleStore
from tts_service.storage.database import open_engine
from tts_service.storage.migrate import load_migrations, migrate

AS = {"cms": AUTH, "other": OTHER_AUTH, "admin": ADMIN_AUTH}
MINE = "cua-cms"  # registered by the cms key
SITES = "cua-trang"  # registered by the command line: the site's
NOT_FOUND = "Không có bài viết '{}' (no registered article with this id)."
NO_JOB = "Không có tác vụ này (no job with this id)."
TAKEN = (
    "Mã bài viết '{}' đã thuộc về một khóa API khác; hãy dùng mã khác "
    "(this article id is registered by another API key: use another id)."
)
ADMINS_ONLY = (
    "Chỉ khóa API quản trị (admin) mới được sửa từ điển của trang; khóa của CMS chỉ quản lý "
    "bài viết của mình (only an admin API key may change the site lexicon; a CMS key manages "
    "its own articles)."
)


def snapshot(service) -> dict[str, list[tuple]]:
    """Every row the registry holds, read through a connection of its own."""
    engine = sa.create_engine(service.settings.registry_database)
    try:
        with engine.connect() as db:
            return {
                table: [tuple(r) for r in db.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))]
                for table in ("articles", "jobs", "lexicon", "state", "deliveries")
            }
    finally:
        engine.dispose()


@pytest.fixture
def still(serve, make_service, engine):
    """A service whose workers are off: rows change only by what the test sends.

    ``cua-cms`` is the cms key's, ``cua-admin`` the admin key's, ``cua-trang`` the site's;
    yields the client, the service and each article's job id.
    """
    service = make_service(engine, api_keys=KEYS, workers=0, page_size=2)
    client = serve(service)
    jobs = {}
    for article_id, auth in ((MINE, AUTH), ("cua-admin", ADMIN_AUTH)):
        answer = client.put(f"/v1/articles/{article_id}", json={"text": ARTICLE}, headers=auth)
        assert answer.status_code == 202, answer.text
        jobs[article_id] = answer.json()["job"]["id"]
    store = ArticleStore.open(service.settings.registry_database)
    try:
        _, job = register(store, SITES, ARTICLE, owner=None)
    finally:
        store.close()
    assert job is not None
    jobs[SITES] = job.id
    return client, service, jobs


ROUTES = {
    "get": ("GET", "/v1/articles/{id}", None),
    "put": ("PUT", "/v1/articles/{id}", {"text": "Bản sửa: hội nghị lùi sang tuần sau."}),
    "regenerate": ("POST", "/v1/articles/{id}/regenerate", None),
    "delete": ("DELETE", "/v1/articles/{id}", None),
    "job": ("GET", "/v1/jobs/{job}", None),
}
ALLOWED = {"get": 200, "put": 202, "regenerate": 202, "delete": 204, "job": 200}
REFUSED = {"get": 404, "put": 409, "regenerate": 404, "delete": 404, "job": 404}
# Who may reach which article: the owner and admins.
MAY = {
    ("cms", MINE): True,
    ("other", MINE): False,
    ("admin", MINE): True,
    ("cms", SITES): False,
    ("other", SITES): False,
    ("admin", SITES): True,
}


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize(("role", "article_id"), list(MAY))
def test_each_route_for_each_role(still, route, role, article_id):
    client, service, jobs = still
    method, path, body = ROUTES[route]
    url = path.format(id=article_id, job=jobs[article_id])
    before = snapshot(service)

    answer = client.request(method, url, json=body, headers=AS[role])

    if MAY[(role, article_id)]:
        assert answer.status_code == ALLOWED[route], answer.text
        return
    assert answer.status_code == REFUSED[route], answer.text
    expected = {
        404: NO_JOB if route == "job" else NOT_FOUND.format(article_id),
        409: TAKEN.format(article_id),
    }[answer.status_code]
    assert answer.json() == {"detail": expected}
    assert snapshot(service) == before


@pytest.mark.parametrize("route", ["get", "regenerate", "delete", "job"])
def test_another_keys_article_answers_as_one_that_does_not_exist(still, route):
    client, _, jobs = still
    method, path, body = ROUTES[route]
    theirs = client.request(
        method, path.format(id=MINE, job=jobs[MINE]), json=body, headers=OTHER_AUTH
    )
    nobody = client.request(
        method, path.format(id="khong-co", job=max(jobs.values()) + 100), json=body, headers=AUTH
    )
    assert theirs.status_code == nobody.status_code == 404
    assert theirs.json()["detail"] == nobody.json()["detail"].replace("khong-co", MINE)


def test_an_admins_edit_leaves_the_article_its_owners(still):
    client, service, _ = still
    answer = client.put(f"/v1/articles/{MINE}", json={"text": "Bản biên tập."}, headers=ADMIN_AUTH)
    assert answer.status_code == 202, answer.text
    mine = client.get(f"/v1/articles/{MINE}", headers=AUTH)
    assert mine.status_code == 200 and mine.json()["job"]["id"] == answer.json()["job"]["id"]
    assert client.get(f"/v1/articles/{MINE}", headers=OTHER_AUTH).status_code == 404
    store = ArticleStore.open(service.settings.registry_database)
    try:
        record = store.get(MINE)
        assert record is not None and (record.owner, record.source) == ("cms", "Bản biên tập.")
    finally:
        store.close()


def test_listing_shows_a_cms_key_its_own_articles_only(still):
    client, _, _ = still
    for n in (1, 2):
        answer = client.put(f"/v1/articles/cms-{n}", json={"text": f"Tin số {n}."}, headers=AUTH)
        assert answer.status_code == 202, answer.text

    def listing(auth, **params):
        pages, ids = [], []
        page = 1
        while True:
            answer = client.get("/v1/articles", params={**params, "page": page}, headers=auth)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            pages.append((body["total"], body["pages"]))
            ids += [item["id"] for item in body["items"]]
            if page >= body["pages"]:
                return ids, pages[0]
            page += 1

    assert listing(AUTH) == (["cms-1", "cms-2", MINE], (3, 2))
    assert listing(AUTH, status="queued") == (["cms-1", "cms-2", MINE], (3, 2))
    assert listing(AUTH, status="ready") == ([], (0, 1))
    assert listing(OTHER_AUTH) == ([], (0, 1))
    assert listing(ADMIN_AUTH) == (["cms-1", "cms-2", "cua-admin", MINE, SITES], (5, 3))


def test_a_cms_key_may_read_the_lexicon_but_only_an_admin_may_change_it(still):
    client, service, _ = still
    etag = client.get("/v1/lexicon", headers=AUTH).headers["etag"]
    before = snapshot(service)
    for auth in (AUTH, OTHER_AUTH):
        for headers in ({}, {"If-Match": etag}, {"If-Match": '"stale"'}):
            refused = client.put(
                "/v1/lexicon",
                json={"entries": {"UBND": "u bê en đê"}},
                headers={**auth, **headers},
            )
            assert refused.status_code == 403, refused.text
            assert refused.json() == {"detail": ADMINS_ONLY}
        # Refused before the entries are even looked at: a 403, not a 422.
        bad = client.put("/v1/lexicon", json={"entries": {"": "x"}}, headers=auth)
        assert bad.status_code == 403
    assert snapshot(service) == before
    assert client.post("/v1/normalize", json={"text": "UBND họp."}).json()["spoken_text"] == (
        "Ủy ban nhân dân họp."
    )

    changed = client.put(
        "/v1/lexicon",
        json={"entries": {"UBND": "u bê en đê"}},
        headers={**ADMIN_AUTH, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    # No article was read yet (no workers): their queued jobs will read with the new entry.
    assert changed.json()["requeued"] == []
    for auth in (AUTH, OTHER_AUTH, ADMIN_AUTH):
        seen = client.get("/v1/lexicon", headers=auth)
        assert seen.status_code == 200
        assert seen.json()["entries"] == {"UBND": "u bê en đê"}


def test_a_job_of_a_deleted_article_stays_with_the_key_that_owned_it(still):
    client, _, jobs = still
    assert client.delete(f"/v1/articles/{MINE}", headers=AUTH).status_code == 204
    # The id is free again: another portal registers an article under it.
    theirs = client.put(f"/v1/articles/{MINE}", json={"text": "Bài khác."}, headers=OTHER_AUTH)
    assert theirs.status_code == 202, theirs.text
    old, new = jobs[MINE], theirs.json()["job"]["id"]
    assert client.get(f"/v1/jobs/{old}", headers=AUTH).json()["state"] == "cancelled"
    assert client.get(f"/v1/jobs/{old}", headers=OTHER_AUTH).status_code == 404
    assert client.get(f"/v1/jobs/{new}", headers=OTHER_AUTH).json()["state"] == "queued"
    assert client.get(f"/v1/jobs/{new}", headers=AUTH).status_code == 404
    assert client.get(f"/v1/articles/{MINE}", headers=AUTH).status_code == 404


def test_two_keys_registering_one_id_at_once_cannot_both_win(still):
    client, service, _ = still
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def register_as(role: str) -> None:
        start.wait()
        answer = client.put(
            "/v1/articles/tranh-chap", json={"text": f"Bài của {role}."}, headers=AS[role]
        )
        answers[role] = answer.status_code

    threads = [threading.Thread(target=register_as, args=(r,)) for r in ("cms", "other")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [202, 409]
    winner = next(role for role, status in answers.items() if status == 202)
    store = ArticleStore.open(service.settings.registry_database)
    try:
        record = store.get("tranh-chap")
        assert record is not None
        assert (record.owner, record.source) == (winner, f"Bài của {winner}.")
    finally:
        store.close()


def test_another_keys_delete_leaves_the_audio_playing(cms):
    client, _ = cms
    registered = client.put(f"/v1/articles/{MINE}", json={"text": ARTICLE}, headers=AUTH)
    assert wait_job(client, registered.json()["job"]["id"])["state"] == "done"
    duration = client.get(f"/v1/articles/{MINE}", headers=AUTH).json()["duration_s"]
    audio = client.get(f"/v1/articles/{MINE}/audio")
    assert audio.status_code == 200
    assert abs(decode_seconds(audio.content) - duration) < 0.05
    assert client.delete(f"/v1/articles/{MINE}", headers=OTHER_AUTH).status_code == 404
    again = client.get(f"/v1/articles/{MINE}/audio")
    assert again.status_code == 200 and again.content == audio.content


def _registry_at_schema_2(url: str) -> None:
    """A registry as the service before owned articles left it: schema 2, with rows.

    On SQLite, the file the old code made (its SQL files, ``PRAGMA user_version``); on
    PostgreSQL, the first two migrations. ``cu-cms`` was last written by the cms key,
    ``cu-kho`` by ``pregenerate`` (no owner); a job of each, and one of ``da-xoa``,
    deleted since.
    """
    if url.startswith("sqlite"):
        legacy_registry(Path(str(sa.engine.make_url(url).database)), schema=2).close()
    else:
        engine = open_engine(url)
        migrate(engine, COMPONENT, load_migrations("tts_service.registry.migrations")[:2])
        engine.dispose()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as raw:
            for article_id, owner in (("cu-cms", "cms"), ("cu-kho", None)):
                raw.execute(
                    sa.text(
                        "INSERT INTO articles (id, source_kind, source, owner, version, status, "
                        "created, updated) VALUES (:id, 'text', 'Xin chào.', :owner, 1, 'queued',"
                        " 1, 1)"
                    ),
                    {"id": article_id, "owner": owner},
                )
            for article_id in ("cu-cms", "cu-kho", "da-xoa"):
                raw.execute(
                    sa.text(
                        "INSERT INTO jobs (article_id, reason, priority, state, not_before, "
                        "created) VALUES (:id, 'put', 0, 'queued', 1, 1)"
                    ),
                    {"id": article_id},
                )
    finally:
        engine.dispose()


def test_rows_from_before_owners_keep_their_writer_or_belong_to_the_site(
    serve, make_service, engine, registry_url
):
    _registry_at_schema_2(registry_url)
    service = make_service(engine, api_keys=KEYS, workers=0)
    client = serve(service)
    expected = {
        # (article or job, key): status
        ("cu-cms", "cms"): 200,
        ("cu-cms", "other"): 404,
        ("cu-cms", "admin"): 200,
        ("cu-kho", "cms"): 404,
        ("cu-kho", "other"): 404,
        ("cu-kho", "admin"): 200,
    }
    seen = {
        (article_id, role): client.get(f"/v1/articles/{article_id}", headers=AS[role]).status_code
        for article_id, role in expected
    }
    assert seen == expected
    jobs = {1: "cu-cms", 2: "cu-kho", 3: "da-xoa"}
    seen_jobs = {
        (job_id, role): client.get(f"/v1/jobs/{job_id}", headers=AS[role]).status_code
        for job_id in jobs
        for role in AS
    }
    assert seen_jobs == {
        (1, "cms"): 200,
        (1, "other"): 404,
        (1, "admin"): 200,
        (2, "cms"): 404,
        (2, "other"): 404,
        (2, "admin"): 200,
        # Its article is gone and with it the owner: the site's.
        (3, "cms"): 404,
        (3, "other"): 404,
        (3, "admin"): 200,
    }
    listed = client.get("/v1/articles", headers=AUTH).json()
    assert [a["id"] for a in listed["items"]] == ["cu-cms"]
    assert snapshot(service)["jobs"][0][-1] == "cms"
