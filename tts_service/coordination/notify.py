"""Notifiers: in-process (conditions) and PostgreSQL (``LISTEN``/``NOTIFY``).

:class:`LocalNotifier` wakes waiters of this process only: what one process, or SQLite
(which has no notifications between processes), offers; other processes find the change
by polling. :class:`PostgresNotifier` keeps one listening connection per process, on a
thread that hands each notification to the process's subscriptions; ``notify`` sends
``pg_notify`` on its own short transaction, or inside the caller's, so the message is
delivered only if the change it announces was committed.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

from tts_service.coordination.sql import CoordinationUnavailable

__all__ = ["LocalNotifier", "PostgresNotifier", "QueueSubscription"]

logger = logging.getLogger(__name__)

# PostgreSQL channel names are identifiers of at most 63 bytes: a few fixed ones.
_CHANNEL_MAX = 63


class QueueSubscription:
    """A subscription's queue of messages, filled by a notifier, read by one waiter."""

    def __init__(self, channel: str, on_close: Callable[[QueueSubscription], None]) -> None:
        self.channel = channel
        self._on_close = on_close
        self._messages: deque[str] = deque()
        self._ready = threading.Condition()
        self._closed = False

    def deliver(self, message: str) -> None:
        """Queue a message (called by the notifier)."""
        with self._ready:
            self._messages.append(message)
            self._ready.notify_all()

    def wait(self, timeout_s: float) -> str | None:
        with self._ready:
            self._ready.wait_for(lambda: self._messages or self._closed, timeout=timeout_s)
            return self._messages.popleft() if self._messages else None

    def close(self) -> None:
        with self._ready:
            if self._closed:
                return
            self._closed = True
            self._ready.notify_all()
        self._on_close(self)

    def __enter__(self) -> QueueSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Fanout:
    """Subscriptions by channel, shared by both notifiers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[QueueSubscription]] = {}

    def add(self, channel: str) -> QueueSubscription:
        sub = QueueSubscription(channel, self.remove)
        with self._lock:
            self._subs.setdefault(channel, set()).add(sub)
        return sub

    def remove(self, sub: QueueSubscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.channel]

    def deliver(self, channel: str, message: str) -> None:
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for sub in subs:
            sub.deliver(message)

    def channels(self) -> set[str]:
        with self._lock:
            return set(self._subs)

    def close_all(self) -> None:
        with self._lock:
            subs = [sub for group in self._subs.values() for sub in group]
        for sub in subs:
            sub.close()


class LocalNotifier:
    """:class:`~tts_service.coordination.ports.Notifier` within one process."""

    def __init__(self) -> None:
        self._fanout = _Fanout()

    def notify(self, channel: str, message: str) -> None:
        self._fanout.deliver(channel, message)

    def subscribe(self, channel: str) -> QueueSubscription:
        return self._fanout.add(channel)

    def close(self) -> None:
        self._fanout.close_all()


class PostgresNotifier:
    """:class:`~tts_service.coordination.ports.Notifier` over ``LISTEN``/``NOTIFY``.

    Args:
        engine: the PostgreSQL engine (its URL gives the listening connection's).
        poll_s: how often the listening thread looks for channels to add and for
            :meth:`close`; notifications themselves arrive at once.
    """

    def __init__(self, engine: Engine, *, poll_s: float = 0.1) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("PostgresNotifier needs a PostgreSQL engine")
        self.engine = engine
        self.poll_s = poll_s
        self._fanout = _Fanout()
        self._stop = threading.Event()
        self._listening: set[str] = set()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)
        self._thread.start()

    def notify(self, channel: str, message: str, *, conn: Connection | None = None) -> None:
        """Send ``message``; inside ``conn``'s transaction when given (sent at its commit)."""
        _check(channel)
        statement = text("SELECT pg_notify(:channel, :message)")
        params = {"channel": channel, "message": message}
        try:
            if conn is not None:
                conn.execute(statement, params)
                return
            with self.engine.begin() as own:
                own.execute(statement, params)
        except Exception as exc:
            raise CoordinationUnavailable(f"cannot notify {channel}: {exc}") from exc

    def subscribe(self, channel: str, *, ready_s: float = 5.0) -> QueueSubscription:
        """Subscribe; returns once this process LISTENs on the channel (or ``ready_s``
        passed: then the first messages may be missed, which the waiter's poll covers)."""
        _check(channel)
        sub = self._fanout.add(channel)
        with self._changed:
            self._changed.notify_all()
            self._changed.wait_for(lambda: channel in self._listening, timeout=ready_s)
        return sub

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._fanout.close_all()

    def _run(self) -> None:
        """Listen, reconnecting after a failure, until closed."""
        import psycopg
        from psycopg import sql

        url = self.engine.url
        conninfo = psycopg.conninfo.make_conninfo(
            host=url.host or "",
            port=str(url.port or 5432),
            user=url.username or "",
            password=url.password or "",
            dbname=url.database or "",
        )
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    while not self._stop.is_set():
                        for channel in self._fanout.channels() - self._listening:
                            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                            with self._changed:
                                self._listening.add(channel)
                                self._changed.notify_all()
                        for note in conn.notifies(timeout=self.poll_s):
                            self._fanout.deliver(note.channel, note.payload)
            except psycopg.Error as exc:
                logger.warning("notifications lost until reconnected: %s", exc)
                with self._changed:
                    self._listening.clear()
                self._stop.wait(1.0)


def _check(channel: str) -> None:
    if not channel or len(channel.encode()) > _CHANNEL_MAX:
        raise ValueError(f"channel names are 1-{_CHANNEL_MAX} bytes: {channel!r}")
