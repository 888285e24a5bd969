"""Notifiers: a hint that wakes waiters, in this process or (PostgreSQL) in every process."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tts_service.coordination.notify import LocalNotifier, PostgresNotifier
from tts_service.storage.database import open_engine


@pytest.fixture(params=["local", "postgresql"])
def notifiers(request):
    """Two notifiers standing for two processes (local: one process, one notifier)."""
    if request.param == "local":
        notifier = LocalNotifier()
        yield notifier, notifier
        notifier.close()
        return
    url = request.getfixturevalue("postgres_url")
    engines = [open_engine(url), open_engine(url)]
    pair = [PostgresNotifier(engine, poll_s=0.05) for engine in engines]
    yield pair[0], pair[1]
    for notifier in pair:
        notifier.close()
    for engine in engines:
        engine.dispose()


def test_a_subscriber_gets_what_is_sent_after_it_subscribed_in_order(notifiers):
    sender, receiver = notifiers
    sender.notify("chunks", "before")  # nobody listens yet: lost, by design
    with receiver.subscribe("chunks") as sub:
        sender.notify("articles", "other channel")
        for key in ("a1", "b2", "c3"):
            sender.notify("chunks", key)
        assert [sub.wait(10) for _ in range(3)] == ["a1", "b2", "c3"]


def test_a_waiting_thread_is_woken(notifiers):
    sender, receiver = notifiers
    got = []
    with receiver.subscribe("jobs") as sub:
        waiter = threading.Thread(target=lambda: got.append(sub.wait(10)))
        waiter.start()
        sender.notify("jobs", "42")
        waiter.join()
    assert got == ["42"]


def test_every_subscription_gets_each_message(notifiers):
    sender, receiver = notifiers
    with receiver.subscribe("chunks") as one, receiver.subscribe("chunks") as two:
        sender.notify("chunks", "k")
        assert (one.wait(10), two.wait(10)) == ("k", "k")


def test_closed_subscription_waits_no_more(notifiers):
    _, receiver = notifiers
    sub = receiver.subscribe("chunks")
    sub.close()
    assert sub.wait(10) is None


def test_a_notification_is_sent_only_if_its_transaction_commits(postgres_url):
    engine = open_engine(postgres_url)
    sender, receiver = PostgresNotifier(engine), PostgresNotifier(engine)
    try:
        with receiver.subscribe("chunks") as sub:
            with engine.connect() as conn:
                transaction = conn.begin()
                sender.notify("chunks", "rolled back", conn=conn)
                transaction.rollback()
                with conn.begin():
                    conn.execute(sa.text("SELECT 1"))
                    sender.notify("chunks", "committed", conn=conn)
            # Delivered in commit order: the rolled-back one would have come first.
            assert sub.wait(10) == "committed"
    finally:
        sender.close()
        receiver.close()
        engine.dispose()


@pytest.mark.parametrize("channel", ["", "c" * 64])
def test_channel_names_fit_postgresql(postgres_url, channel):
    engine = open_engine(postgres_url)
    notifier = PostgresNotifier(engine)
    try:
        with pytest.raises(ValueError, match="channel names"):
            notifier.notify(channel, "x")
    finally:
        notifier.close()
        engine.dispose()
