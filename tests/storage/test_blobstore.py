"""The BlobStore contract, run on the file store and on a real S3 store (SeaweedFS)."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import urlopen

import httpx
import pytest

from tests.helpers import tone_mp3
from tts_service.errors import CacheError
from tts_service.storage import BlobStore, FileBlobStore
from tts_service.storage.s3 import S3BlobStore


def s3_store(where, **options) -> S3BlobStore:
    """An S3 store at ``where`` (a SeaweedFS location) with extra options."""
    return S3BlobStore(
        where.bucket,
        where.prefix,
        endpoint_url=where.endpoint_url,
        access_key=where.access_key,
        secret_key=where.secret_key,
        region=where.region,
        **options,
    )


def blob(size: int, seed: int = 1) -> bytes:
    """``size`` reproducible bytes that differ at every seed."""
    return random.Random(seed).randbytes(size)


def test_is_a_blob_store(store):
    assert isinstance(store, BlobStore)


def test_put_then_get_returns_the_same_bytes(store):
    mp3 = tone_mp3(3.0)
    store.put_atomic("chunks/ab/abcdef.mp3", mp3)
    assert store.get("chunks/ab/abcdef.mp3") == mp3
    assert store.size("chunks/ab/abcdef.mp3") == len(mp3)
    assert store.exists("chunks/ab/abcdef.mp3")


def test_missing_keys_are_none_not_errors(store):
    assert store.get("chunks/00/missing.mp3") is None
    assert store.size("chunks/00/missing.mp3") is None
    assert store.exists("chunks/00/missing.mp3") is False
    assert store.open_range("chunks/00/missing.mp3", 0, 10) is None
    store.put_atomic("chunks/00/present.mp3", b"x")
    # A key that is a prefix of another, or under an object's name, is not an object.
    assert store.get("chunks/00") is None
    assert store.get("chunks/00/present.mp3/inner") is None


def test_overwrite_replaces_the_whole_object(store):
    store.put_atomic("articles/ab/k.vtt", blob(5000, seed=1))
    store.put_atomic("articles/ab/k.vtt", b"WEBVTT\n")
    assert store.get("articles/ab/k.vtt") == b"WEBVTT\n"
    assert store.size("articles/ab/k.vtt") == 7


def test_put_takes_parts_and_says_how_many_bytes_it_stored(store):
    # An article is written from its stored chunks, part by part.
    parts = [blob(3000, seed=n) for n in range(5)]
    assert store.put_atomic("articles/ab/parts.mp3", iter(parts)) == 15_000
    assert store.get("articles/ab/parts.mp3") == b"".join(parts)
    assert store.put_atomic("chunks/ab/whole.mp3", b"frames") == 6


def test_parts_that_fail_midway_leave_nothing(store):
    def parts():
        yield blob(3000)
        raise CacheError("a chunk went missing")  # as AudioCache's reader raises

    with pytest.raises(CacheError, match="went missing"):
        store.put_atomic("articles/ab/broken.mp3", parts())
    assert store.get("articles/ab/broken.mp3") is None
    assert [k for k in store.list("") if "broken" in k] == []


def test_empty_object(store):
    store.put_atomic("chunks/ee/empty.mp3", b"")
    assert store.get("chunks/ee/empty.mp3") == b""
    assert store.size("chunks/ee/empty.mp3") == 0


def test_readers_never_see_a_partial_object(store):
    """A reader racing writers sees nothing, or one whole version: never a mix or a prefix."""
    versions = [blob(1_500_000, seed=s) for s in (1, 2, 3)]
    key = "articles/ab/race.mp3"
    seen: list[bytes | None] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(store.get(key))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3):
            for data in versions:
                store.put_atomic(key, data)
    finally:
        done.set()
        reader.join()
    assert seen, "the reader never ran"
    bad = [len(got) for got in seen if got is not None and got not in versions]
    assert bad == []
    assert store.get(key) == versions[-1]


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [
        (0, None, (0, 1000)),
        (0, 10, (0, 10)),
        (100, 250, (100, 350)),
        (990, 100, (990, 1000)),  # clipped at the end
        (999, None, (999, 1000)),
        (1000, None, (1000, 1000)),  # at the end: empty, total still known
        (5000, 10, (1000, 1000)),  # past the end: empty
        (10, 0, (10, 10)),
    ],
)
def test_open_range(store, offset, length, expected):
    data = blob(1000)
    store.put_atomic("chunks/ra/range.mp3", data)
    with store.open_range("chunks/ra/range.mp3", offset, length) as part:
        got = part.read()
        assert part.total == 1000
        assert (part.offset, part.offset + part.length) == expected
    assert got == data[expected[0] : expected[1]]


def test_open_range_streams_in_pieces(store):
    data = blob(300_000, seed=7)
    store.put_atomic("articles/ab/long.mp3", data)
    with store.open_range("articles/ab/long.mp3", 1234) as part:
        pieces = list(part)
    assert [len(p) for p in pieces] == [65536, 65536, 65536, 65536, 298766 - 4 * 65536]
    assert b"".join(pieces) == data[1234:]


def test_open_range_rejects_negative_numbers(store):
    store.put_atomic("chunks/ne/g.mp3", b"abc")
    with pytest.raises(ValueError):
        store.open_range("chunks/ne/g.mp3", -1)
    with pytest.raises(ValueError):
        store.open_range("chunks/ne/g.mp3", 0, -5)


def test_delete_is_idempotent(store):
    store.put_atomic("chunks/de/gone.mp3", b"abc")
    store.delete("chunks/de/gone.mp3")
    assert store.get("chunks/de/gone.mp3") is None
    assert store.exists("chunks/de/gone.mp3") is False
    store.delete("chunks/de/gone.mp3")
    store.delete("chunks/de/never.mp3")


def test_list_by_prefix_in_order(store):
    keys = [
        "chunks/cd/3.mp3",
        "articles/ab/4.vtt",
        "chunks/ab/2.mp3",
        "chunks/ab/1.mp3",
        "articles/ab/4.mp3",
    ]
    for key in keys:
        store.put_atomic(key, key.encode())
    assert list(store.list()) == sorted(keys)
    assert list(store.list("chunks/")) == ["chunks/ab/1.mp3", "chunks/ab/2.mp3", "chunks/cd/3.mp3"]
    assert list(store.list("chunks/a")) == ["chunks/ab/1.mp3", "chunks/ab/2.mp3"]
    assert list(store.list("articles/ab/4.")) == ["articles/ab/4.mp3", "articles/ab/4.vtt"]
    assert list(store.list("nothing/")) == []
    store.delete("chunks/ab/1.mp3")
    assert list(store.list("chunks/ab/")) == ["chunks/ab/2.mp3"]


def test_s3_list_follows_pages(s3_location):
    """S3 lists 1000 keys a page at most; the store follows the pages."""
    store = s3_store(s3_location)
    keys = [f"chunks/pg/{i:04d}.mp3" for i in range(1003)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put_atomic(key, b""), keys))
    assert list(store.list("chunks/pg/")) == keys


@pytest.mark.parametrize(
    "key", ["", "../index.sqlite3", "/etc/passwd", "a//b", "a/./b", "a/../b", "a\\b", "a b", "é"]
)
def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(CacheError, match="invalid storage key"):
        store.put_atomic(key, b"x")
    with pytest.raises(CacheError, match="invalid storage key"):
        store.get(key)


# -- URLs something else can fetch --------------------------------------------------------


class QuietFiles(SimpleHTTPRequestHandler):
    """Serves a directory, as nginx would, without logging to stderr."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def test_presigned_url_is_fetchable_over_http(s3_location):
    store = s3_store(s3_location)
    data = tone_mp3(2.0)
    store.put_atomic("articles/ab/pub.mp3", data)
    url = store.public_url("articles/ab/pub.mp3", expires_s=300)
    answer = httpx.get(url)
    assert (answer.status_code, answer.content) == (200, data)
    ranged = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert (ranged.status_code, ranged.content) == (206, data[10:20])
    # The signature covers the key: the same URL for another object is refused.
    store.put_atomic("articles/ab/other.mp3", b"secret")
    forged = url.replace("articles/ab/pub.mp3", "articles/ab/other.mp3")
    assert httpx.get(forged).status_code == 403


def test_file_url_reads_the_object(tmp_path):
    store = FileBlobStore(tmp_path / "s")
    store.put_atomic("articles/ab/f.mp3", b"ID3 bytes")
    url = store.public_url("articles/ab/f.mp3", expires_s=60)
    assert url == (tmp_path / "s" / "articles" / "ab" / "f.mp3").as_uri()
    with urlopen(url) as answer:
        assert answer.read() == b"ID3 bytes"


def test_public_base_url_serves_the_file_store_over_http(tmp_path):
    """With TTS_AUDIO_PUBLIC_URL over the directory (nginx's job), URLs are base + key."""
    root = tmp_path / "served"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietFiles, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/audio/"
        store = FileBlobStore(root, public_base_url=base)
        store.put_atomic("articles/ab/p.mp3", b"mp3 frames")
        url = store.public_url("articles/ab/p.mp3", expires_s=60)
        assert url == base + "articles/ab/p.mp3"
        # The test server serves root at /, the base's /audio/ is nginx's mapping: strip it.
        answer = httpx.get(url.replace("/audio/", "/"))
        assert (answer.status_code, answer.content) == (200, b"mp3 frames")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_public_base_url_of_the_s3_store(s3_location):
    store = s3_store(s3_location, public_base_url="https://cdn.example.vn/audio/")
    assert (
        store.public_url("articles/ab/x.mp3", expires_s=60)
        == "https://cdn.example.vn/audio/articles/ab/x.mp3"
    )
