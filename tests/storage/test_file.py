"""What only the file store does: today's cache layout, its tmp/ directory, failed writes."""

from __future__ import annotations

import pytest

from tts_service.errors import CacheError
from tts_service.storage import FileBlobStore


def test_keys_are_the_cache_layout(tmp_path):
    store = FileBlobStore(tmp_path)
    store.put_atomic("chunks/ab/abcd.mp3", b"frames")
    assert (tmp_path / "chunks" / "ab" / "abcd.mp3").read_bytes() == b"frames"
    assert store.url == tmp_path.as_uri()


def test_an_existing_cache_directory_is_a_store(tmp_path):
    (tmp_path / "articles" / "cd").mkdir(parents=True)
    (tmp_path / "articles" / "cd" / "cdef.json").write_text('{"duration": 1.5}')
    (tmp_path / "index.sqlite3").write_bytes(b"SQLite format 3\x00")
    store = FileBlobStore(tmp_path)
    assert store.get("articles/cd/cdef.json") == b'{"duration": 1.5}'
    assert list(store.list("articles/")) == ["articles/cd/cdef.json"]


def test_a_failed_write_leaves_nothing(tmp_path):
    store = FileBlobStore(tmp_path)
    store.put_atomic("chunks/ab/file.mp3", b"x")
    # The new key's directory would have to be where a file is: the write fails.
    with pytest.raises(CacheError, match="cannot write chunks/ab/file.mp3/inner.mp3"):
        store.put_atomic("chunks/ab/file.mp3/inner.mp3", b"y" * 1000)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list(store.list()) == ["chunks/ab/file.mp3"]


def test_tmp_is_not_a_key_and_not_listed(tmp_path):
    store = FileBlobStore(tmp_path)
    (tmp_path / "tmp" / "x.mp3.0123.part").write_bytes(b"half a write")
    with pytest.raises(CacheError, match="tmp/ holds files being written"):
        store.get("tmp/x.mp3.0123.part")
    assert list(store.list()) == []
    assert store.clear_tmp() == 1
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_directory_is_not_an_object(tmp_path):
    store = FileBlobStore(tmp_path)
    store.put_atomic("chunks/ab/c.mp3", b"x")
    assert store.size("chunks/ab") is None
    assert store.open_range("chunks/ab") is None
    store.delete("chunks/ab")
    assert store.get("chunks/ab/c.mp3") == b"x"
