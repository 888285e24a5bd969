"""Kill a process while it writes to the cache; nothing partial is ever servable.

On both index backends: SQLite (the writer dies holding the file's write lock, which
SQLite releases with its process) and PostgreSQL (the server rolls back the dead
connection's transaction).
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap

WRITER = textwrap.dedent(
    """
    import hashlib, sys
    from pathlib import Path
    from tts_service.cache import AudioCache
    cache = AudioCache(Path(sys.argv[1]), max_bytes=10**10, database_url=sys.argv[2] or None)
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


def test_kill_9_during_writes_leaves_only_complete_articles(index_db, tmp_path):
    root = tmp_path / "cache"
    for _ in range(3):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), index_db.postgres or ""],
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "writing"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        cache = index_db.cache(root, max_bytes=10**10)
        articles = list((root / "articles").glob("*/*.json"))
        assert articles
        for meta in articles:
            key = meta.stem
            stored = cache.get_article(key)
            assert stored is not None
            expected = hashlib.sha256(str(stored.meta["n"]).encode()).hexdigest()[:40]
            assert key == expected
            assert stored.mp3_path.read_bytes() == key.encode() * 50_000
        assert list((root / "tmp").iterdir()) == []
        # The index knows exactly the complete articles, and its totals their bytes.
        indexed = sorted(key for (key,) in index_db.rows(root, "SELECT key FROM entries"))
        assert indexed == sorted(meta.stem for meta in articles)
        [(total,)] = index_db.rows(root, "SELECT bytes FROM totals WHERE name = 'all'")
        assert (
            total
            == cache.total_bytes
            == sum(size for (size,) in index_db.rows(root, "SELECT size FROM entries"))
        )
        cache.close()
