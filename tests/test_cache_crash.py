"""Kill a process while it writes to the cache; nothing partial is ever servable.

On every store (the cache directory, SeaweedFS) and index database: SQLite (the writer
dies holding the file's write lock, which SQLite releases with its process) and PostgreSQL
(the server rolls back the dead connection's transaction). ``backend``: tests/cache_db.py.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap

WRITER = textwrap.dedent(
    """
    import hashlib, os, sys
    from pathlib import Path
    from tts_service.cache import AudioCache
    from tts_service.storage import open_blob_store
    store = open_blob_store(sys.argv[2], s3_endpoint_url=os.environ.get("TTS_S3_ENDPOINT_URL"))
    cache = AudioCache(
        Path(sys.argv[1]), max_bytes=10**10, store=store, database_url=sys.argv[3] or None
    )
    i = 0
    while True:
        key = hashlib.sha256(str(i).encode()).hexdigest()[:40]
        body = key.encode() * 50_000  # 2 MB, so the kill often lands mid-write
        cache.put_article(key, mp3=body, vtt="WEBVTT\\n", meta={"n": i})
        if i == 2:
            print("writing", flush=True)
        i += 1
    """
)


def test_kill_9_during_writes_leaves_only_complete_articles(backend, tmp_path):
    root = tmp_path / "cache"
    for _ in range(3):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), backend.url(root), backend.postgres or ""],
            stdout=subprocess.PIPE,
            text=True,
            env=backend.env(),
        ) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "writing"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        cache = backend.cache(root, max_bytes=10**10)
        articles = backend.keys(root, "articles/")
        assert articles
        # Only whole articles are left: every key has its three objects.
        stems = [blob.rsplit("/", 1)[1].split(".")[0] for blob in articles]
        assert all(stems.count(stem) == 3 for stem in stems), articles
        for key in sorted(set(stems)):
            stored = cache.get_article(key)
            assert stored is not None
            expected = hashlib.sha256(str(stored.meta["n"]).encode()).hexdigest()[:40]
            assert key == expected
            assert cache.read_mp3(stored) == key.encode() * 50_000
        assert list((root / "tmp").iterdir()) == []
        # The index knows exactly the complete articles, and its totals their bytes.
        indexed = sorted(key for (key,) in backend.rows(root, "SELECT key FROM entries"))
        assert indexed == sorted(set(stems))
        [(total,)] = backend.rows(root, "SELECT bytes FROM totals WHERE name = 'all'")
        assert (
            total
            == cache.total_bytes
            == sum(size for (size,) in backend.rows(root, "SELECT size FROM entries"))
        )
        cache.close()
