"""Four processes share one Google budget: together they stay within budget + burst.

Real processes (spawned, each with its own engine and connections) on one database, on a
shared fake clock the test moves one second at a time, so a minute of traffic takes no
minute: at each second every process takes all the tokens it can, and the test counts
what the whole deployment was given.
"""

from __future__ import annotations

import multiprocessing

import pytest

from tts_service.coordination.sql import create_tables
from tts_service.storage.database import open_engine

PROCESSES = 4
SECONDS = 60
PER_MINUTE = 300  # 5 a second
BURST = 60
RESERVE = 15


def take_every_second(url, clock, start, done, listener, results):
    """One service process: at each tick, take tokens until the budget refuses."""
    from tts_service.coordination.sql import SqlRateBudget
    from tts_service.storage.database import open_engine

    engine = open_engine(url)
    try:
        budget = SqlRateBudget(
            engine, "gtts", PER_MINUTE, burst=BURST, reserve=RESERVE, clock=lambda: clock.value
        )
        counts = []
        for _ in range(SECONDS + 1):
            start.wait(timeout=120)
            taken = 0
            while budget.take(listener=listener, max_wait_s=0.0).taken:
                taken += 1
            counts.append(taken)
            done.wait(timeout=120)
        results.put((listener, counts))
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_four_processes_stay_within_one_budget(database_url):
    engine = open_engine(database_url)
    create_tables(engine)
    engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    clock = ctx.Value("d", 1_000_000.0)
    start, done = ctx.Barrier(PROCESSES + 1), ctx.Barrier(PROCESSES + 1)
    results = ctx.Queue()
    # Two processes serve listeners, two run background jobs (a back catalogue).
    processes = [
        ctx.Process(
            target=take_every_second,
            args=(database_url, clock, start, done, i % 2 == 0, results),
        )
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        for second in range(SECONDS + 1):
            clock.value = 1_000_000.0 + second
            start.wait(timeout=120)
            done.wait(timeout=120)
        got = [results.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    per_second = [sum(counts[s] for _, counts in got) for s in range(SECONDS + 1)]
    # The burst at once, then exactly the rate: 360 = 300 a minute + 60, for all four.
    assert per_second == [BURST] + [PER_MINUTE // 60] * SECONDS
    assert sum(per_second) == PER_MINUTE + BURST
    # Background work never dips into the reserve: after the first second the bucket
    # never holds more than 5 tokens, so every later token went to a listener.
    background = [counts for listener, counts in got if not listener]
    assert [counts[1:] for counts in background] == [[0] * SECONDS] * 2
    assert sum(counts[0] for counts in background) <= BURST - RESERVE
    assert all(process.exitcode == 0 for process in processes)
