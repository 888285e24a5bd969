"""``tts-service migrate-storage``: a cache directory copied into SeaweedFS, resumably, verified."""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from tests.cache_stores import Stores
from tts_service.cache import AudioCache
from tts_service.cli import main
from tts_service.storage import FileBlobStore, transfer


def key(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()[:40]


@pytest.fixture
def filled(tmp_path):
    """A cache directory with 12 chunks and 4 articles (3 objects each), its index closed."""
    root = tmp_path / "cache"
    cache = AudioCache(root, max_bytes=10**9)
    for n in range(12):
        cache.put_chunk(key(n), f"chunk {n} ".encode() * (100 + n))
    for n in range(100, 104):
        cache.put_article(key(n), mp3=b"ID3" + bytes([n]) * 5000, vtt="WEBVTT\n", meta={"n": n})
    cache.close()
    return root


@pytest.fixture
def s3(s3_location):
    return Stores("s3", s3_location)


def run(s3, source_url, target_url):
    env = {k: v for k, v in s3.env().items() if k.startswith(("AWS_", "TTS_"))}
    return CliRunner().invoke(
        main, ["migrate-storage", "--from", source_url, "--to", target_url], env=env
    )


def contents(store) -> dict[str, bytes]:
    return {k: store.get(k) for k in transfer.ordered_keys(store)}


def test_a_cache_directory_is_copied_into_s3_and_served_from_there(filled, s3):
    target_url = s3.url(filled)
    result = run(s3, f"file://{filled}", target_url)
    assert result.exit_code == 0, result.output
    assert "copied:" in result.output and "24 (" in result.output  # 12 + 4 × 3 objects
    source, target = FileBlobStore(filled), s3.open(filled)
    assert contents(target) == contents(source) and len(contents(source)) == 24
    # The same index over the bucket: every article and chunk is there, nothing remade.
    cache = AudioCache(filled, max_bytes=10**9, store=target)
    try:
        for n in range(100, 104):
            stored = cache.get_article(key(n))
            assert stored is not None and stored.meta == {"n": n}
            assert cache.read_mp3(stored) == b"ID3" + bytes([n]) * 5000
        assert cache.get_chunk(key(3)) == b"chunk 3 " * 103
        assert cache.total_bytes == sum(len(v) for v in contents(source).values())
    finally:
        cache.close()


def test_an_interrupted_copy_resumes_where_it_stopped(filled, s3, monkeypatch):
    source, target = FileBlobStore(filled), s3.open(filled)
    real_copy, calls = transfer._copy_one, []

    def interrupted_after_seven(*args):
        if len(calls) == 7:
            raise KeyboardInterrupt  # what Ctrl-C (SIGINT) raises in the copying thread
        calls.append(args[2])
        real_copy(*args)

    monkeypatch.setattr(transfer, "_copy_one", interrupted_after_seven)
    first = run(s3, f"file://{filled}", s3.url(filled))
    assert first.exit_code == 130, first.output
    assert "run the same command again" in first.output
    assert sorted(target.list("")) == sorted(calls)
    monkeypatch.undo()

    second = run(s3, f"file://{filled}", s3.url(filled))
    assert second.exit_code == 0, second.output
    assert "skipped (already there):      7" in second.output, second.output
    assert "copied:                       17 (" in second.output, second.output
    assert contents(target) == contents(source)


def test_verification_catches_corrupted_objects_and_copies_them_again(filled, s3):
    source, target = FileBlobStore(filled), s3.open(filled)
    assert run(s3, f"file://{filled}", s3.url(filled)).exit_code == 0
    mp3 = f"articles/{key(101)[:2]}/{key(101)}.mp3"
    chunk = f"chunks/{key(4)[:2]}/{key(4)}.mp3"
    good = source.get(mp3)
    target.put_atomic(mp3, good[:-1] + b"\x00")  # same size, one byte changed
    target.put_atomic(chunk, source.get(chunk)[:10])  # cut short
    again = run(s3, f"file://{filled}", s3.url(filled))
    assert again.exit_code == 0, again.output
    assert "repaired (differed):          2" in again.output, again.output
    assert "skipped (already there):      22" in again.output
    assert contents(target) == contents(source)


def test_a_copy_that_does_not_read_back_the_same_fails_the_run(filled, s3, monkeypatch):
    # A store (or a proxy in front of it) that keeps other bytes than it was sent.
    source, target = FileBlobStore(filled), s3.open(filled)
    real_put = target.put_atomic
    mangled = f"chunks/{key(5)[:2]}/{key(5)}.mp3"

    def put_atomic(blob, data):
        return real_put(blob, data[:-1] + b"?" if blob == mangled else data)

    monkeypatch.setattr(target, "put_atomic", put_atomic)
    report = transfer.migrate_storage(source, target)
    assert report.exit_code == 1
    assert [k for k, _ in report.failures] == [mangled]
    assert "verification failed" in report.failures[0][1]
    assert report.copied == 23


def test_articles_are_copied_with_their_metadata_last(filled):
    keys = list(transfer.ordered_keys(FileBlobStore(filled)))
    for n in range(100, 104):
        mine = [k for k in keys if key(n) in k]
        assert [k.rsplit(".", 1)[1] for k in mine] == ["mp3", "vtt", "json"]


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("ftp://host/dir", "file://{tmp}/x", "--from"),
        ("file://{tmp}/a", "s3://", "--to"),
        ("file://{tmp}/same", "file://{tmp}/same", "same store"),
    ],
)
def test_bad_urls_are_usage_errors(tmp_path, source, target, message):
    source, target = source.format(tmp=tmp_path), target.format(tmp=tmp_path)
    result = CliRunner().invoke(main, ["migrate-storage", "--from", source, "--to", target])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_copy_killed_midway_resumes_and_ends_complete(tmp_path, s3):
    # kill -9: no handler runs, the copy in flight is lost; the next run skips what is
    # there and verified, and copies the rest.
    root = tmp_path / "big"
    cache = AudioCache(root, max_bytes=10**9)
    for n in range(300):
        cache.put_chunk(key(n), key(n).encode() * 500)  # 20 KB, a chunk's size
    cache.close()
    target = s3.open(root)
    command = [sys.executable, "-m", "tts_service.cli", "migrate-storage"]
    command += ["--from", f"file://{root}", "--to", s3.url(root)]
    with subprocess.Popen(command, env=s3.env(), stderr=subprocess.PIPE) as proc:
        pause = threading.Event()
        while len(list(target.list("chunks/"))) < 20:  # the bucket's own listing
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            pause.wait(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done_before = len(list(target.list("chunks/")))
    assert 20 <= done_before < 300
    again = run(s3, f"file://{root}", s3.url(root))
    assert again.exit_code == 0, again.output
    skipped = int(re.search(r"skipped \(already there\):\s+(\d+)", again.output)[1])
    copied = int(re.search(r"copied:\s+(\d+)", again.output)[1])
    repaired = int(re.search(r"repaired \(differed\):\s+(\d+)", again.output)[1])
    # What was stored before the kill is whole (a PUT is atomic) and skipped; the one in
    # flight may have landed after the listing.
    assert done_before <= skipped <= done_before + 1
    assert (repaired, skipped + copied) == (0, 300)
    assert contents(target) == contents(FileBlobStore(root))
