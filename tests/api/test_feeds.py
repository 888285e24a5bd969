"""The podcast feed: valid RSS a feed parser reads, with enclosures that play."""

from __future__ import annotations

import feedparser
import pytest

from tests.helpers import decode_seconds
from tests.registry.cms import CountingEngine

KEY = "feed-key-0123456789abcdef"
OTHER = "other-key-0123456789abcdef"
NOFEED = "nofeed-key-0123456789abcdef"


def put(client, key, article_id, **body):
    return client.put(
        f"/v1/articles/{article_id}", json=body, headers={"Authorization": f"Bearer {key}"}
    )


@pytest.fixture
def client(serve, make_service):
    service = make_service(
        CountingEngine(),
        api_keys=[
            {"name": "baolangson", "key": KEY, "feed_title": "Báo Lạng Sơn — Bài đọc"},
            {"name": "other", "key": OTHER, "feed_title": "Cổng khác"},
            {"name": "nofeed", "key": NOFEED},
        ],
    )
    return serve(service)


def register(client, key, article_id, title, text):
    answer = put(client, key, article_id, title=title, text=text)
    assert answer.status_code == 202, answer.text
    job = client.get(
        f"/v1/jobs/{answer.json()['job']['id']}",
        params={"wait": 30},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert job["state"] == "done", job


def test_a_keys_articles_are_a_podcast(client):
    register(client, KEY, "tin-1", "Họp HĐND tỉnh", "Sáng nay HĐND tỉnh họp kỳ thứ VII.")
    register(client, KEY, "tin-2", "Mùa lúa mới", "Nông dân thu hoạch lúa sớm. Giá lúa tăng.")
    register(client, OTHER, "tin-3", "Tin khác", "Tin của cổng khác.")

    answer = client.get("/v1/feeds/baolangson.xml")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(answer.content)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.version == "rss20"
    assert feed.feed.title == "Báo Lạng Sơn — Bài đọc"
    assert feed.feed.language == "vi"
    assert b"<itunes:explicit>false</itunes:explicit>" in answer.content  # Apple's spelling
    # Newest first, only this key's articles.
    assert [entry.title for entry in feed.entries] == ["Mùa lúa mới", "Họp HĐND tỉnh"]
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.type == "audio/mpeg"
        audio = client.get(enclosure.href)
        assert audio.status_code == 200
        assert int(enclosure.length) == len(audio.content)
        hours, minutes, seconds = (int(part) for part in entry.itunes_duration.split(":"))
        assert hours * 3600 + minutes * 60 + seconds == round(decode_seconds(audio.content))
        assert entry.published_parsed is not None
        assert entry.id.split("#")[0] in ("tin-1", "tin-2")
    assert feed.entries[1].summary == "Sáng nay HĐND tỉnh họp kỳ thứ VII."

    # A podcast app's conditional refresh costs a 304.
    again = client.get(
        "/v1/feeds/baolangson.xml", headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304


def test_an_edit_gives_the_episode_a_new_guid(client):
    register(client, KEY, "tin-1", "Họp", "Sáng nay HĐND tỉnh họp.")
    before = feedparser.parse(client.get("/v1/feeds/baolangson.xml").content)
    register(client, KEY, "tin-1", "Họp", "Chiều nay HĐND tỉnh họp.")
    after = feedparser.parse(client.get("/v1/feeds/baolangson.xml").content)
    assert len(before.entries) == len(after.entries) == 1
    assert before.entries[0].id != after.entries[0].id
    assert before.entries[0].id.split("#")[0] == after.entries[0].id.split("#")[0] == "tin-1"


@pytest.mark.parametrize("feed", ["nofeed", "khong-co", "baolangson.."])
def test_keys_without_a_feed_title_have_no_feed(client, feed):
    answer = client.get(f"/v1/feeds/{feed}.xml")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Không có kênh podcast này (no such feed)."}


def test_an_empty_feed_is_still_valid(client):
    feed = feedparser.parse(client.get("/v1/feeds/other.xml").content)
    assert feed.bozo == 0 and feed.entries == []
    assert feed.feed.title == "Cổng khác"
