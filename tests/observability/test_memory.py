"""glibc gives the memory of big freed buffers back: tuned at start, trimmed on a timer."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tts_service.observability.memory import MemoryTrimmer, _libc

ROOT = Path(__file__).resolve().parents[2]

# Four threads assemble MP3-sized buffers (300 KB to 2 MB, eight alive at a time) while
# small objects that outlive them are allocated in between, as a service under load does.
# Prints the MiB the process kept once every big buffer was freed.
SCENARIO = textwrap.dedent(
    """
    import sys, threading
    from tts_service.observability.memory import tune_allocator

    def rss_mib():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    if sys.argv[1] == "tuned":
        assert tune_allocator()
    before = rss_mib()
    survivors = []

    def assemble():
        alive = []
        for i in range(400):
            alive.append(bytes(300_000 + (i % 50) * 40_000))
            survivors.append(bytearray(64))
            if len(alive) > 8:
                alive.pop(0)

    threads = [threading.Thread(target=assemble) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(rss_mib() - before)
    """
)


def kept_mib(mode: str) -> float:
    run = subprocess.run(
        [sys.executable, "-c", SCENARIO, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(run.stdout)


@pytest.mark.skipif(_libc() is None, reason="glibc only")
def test_big_freed_buffers_go_back_to_the_system_once_tuned():
    untuned, tuned = kept_mib("default"), kept_mib("tuned")
    # glibc's own defaults keep several MiB here (its mmap threshold rises to the sizes
    # freed, so later buffers come from the heap and stay); tuned, nothing to speak of.
    assert untuned > 4
    assert tuned < 1.5


def test_the_trimmer_stops_at_once():
    trimmer = MemoryTrimmer(3600)
    trimmer.start()
    trimmer.close()  # does not wait out the hour
    assert trimmer.trims == 0
    with pytest.raises(ValueError, match="interval_s"):
        MemoryTrimmer(0)
