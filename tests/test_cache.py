from __future__ import annotations

import os

import pytest

from tts_service.cache import AudioCache
from tts_service.errors import CacheError

KEY = "a" * 40


def make(tmp_path, max_bytes=10_000_000):
    return AudioCache(tmp_path / "cache", max_bytes=max_bytes)


def test_chunk_round_trip_and_restart(tmp_path):
    cache = make(tmp_path)
    cache.put_chunk(KEY, b"frames")
    assert cache.get_chunk(KEY) == b"frames"
    cache.close()
    again = make(tmp_path)
    assert again.get_chunk(KEY) == b"frames"
    assert again.total_bytes == len(b"frames")


def test_article_round_trip(tmp_path):
    cache = make(tmp_path)
    cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={"engine": "espeak"})
    article = cache.get_article(KEY)
    assert article is not None
    assert article.mp3_path.read_bytes() == b"ID3mp3"
    assert article.meta == {"engine": "espeak"}


def test_crash_before_metadata_leaves_nothing_servable(tmp_path, monkeypatch):
    cache = make(tmp_path)
    real_replace = os.replace

    def crash_on_metadata(src, dst):
        if str(dst).endswith(".json"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_metadata)
    with pytest.raises(CacheError):
        cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    monkeypatch.undo()
    assert cache.get_article(KEY) is None
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
    cache.close()
    # A restart removes the orphaned audio the crash left under its final name.
    make(tmp_path)
    assert list((tmp_path / "cache" / "articles").glob("*/*")) == []


def test_leftover_partial_files_are_removed_at_start(tmp_path):
    make(tmp_path).close()
    leftover = tmp_path / "cache" / "tmp" / "x.mp3.part"
    leftover.write_bytes(b"half")
    make(tmp_path)
    assert not leftover.exists()


def test_least_recently_used_entries_are_evicted(tmp_path):
    cache = make(tmp_path, max_bytes=1024 * 1024)
    mib = 1024 * 1024
    cache.put_chunk("1" * 40, b"x" * (mib // 2))
    cache.put_chunk("2" * 40, b"x" * (mib // 2))
    assert cache.get_chunk("1" * 40) is not None  # now 1 is more recent than 2
    cache.put_chunk("3" * 40, b"x" * (mib // 2))
    assert cache.get_chunk("2" * 40) is None
    assert cache.get_chunk("1" * 40) is not None
    assert cache.get_chunk("3" * 40) is not None
    assert cache.total_bytes <= mib


def test_alias_expires(tmp_path):
    cache = make(tmp_path)
    cache.set_alias("b" * 40, KEY, ttl=-1)
    assert cache.get_alias("b" * 40) is None
    cache.set_alias("b" * 40, KEY)
    assert cache.get_alias("b" * 40) == KEY


def test_keys_cannot_escape_the_cache(tmp_path):
    with pytest.raises(CacheError):
        make(tmp_path).get_chunk("../../etc/passwd")


def test_readiness_probe_sees_a_writable_cache(tmp_path):
    assert make(tmp_path).writable()


def test_pinned_articles_are_never_evicted_and_do_not_count_against_the_cap(tmp_path):
    cache = AudioCache(tmp_path, max_bytes=1024 * 1024)
    pinned, loose = "1" * 40, "2" * 40
    cache.pin(pinned, "bai-1")
    cache.put_article(pinned, mp3=b"x" * 700_000, vtt="WEBVTT\n", meta={})
    cache.put_article(loose, mp3=b"y" * 700_000, vtt="WEBVTT\n", meta={})
    # 1.4 MB in all, but only the unpinned 0.7 MB counts: nothing goes.
    assert cache.get_article(pinned) is not None and cache.get_article(loose) is not None
    cache.put_chunk("3" * 40, b"z" * 400_000)  # now the unpinned part is over the cap
    assert cache.get_article(pinned) is not None
    assert cache.get_article(loose) is None


def test_unpin_says_when_no_owner_is_left_and_remove_deletes_now(tmp_path):
    cache = AudioCache(tmp_path, max_bytes=10**9)
    cache.put_article(KEY, mp3=b"ID3mp3", vtt="WEBVTT\n", meta={})
    cache.pin(KEY, "a")
    cache.pin(KEY, "b")
    assert cache.unpin(KEY, "a") is False
    assert cache.unpin(KEY, "b") is True
    cache.remove("article", KEY)
    assert cache.get_article(KEY) is None
    assert cache.total_bytes == 0
