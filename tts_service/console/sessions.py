"""Server-side sessions of the editors' console: an API key exchanged for a cookie.

The editor types the API key once; the browser then holds only a random token (the
cookie), and the database the token's SHA-256, the key's name and a digest of its value.
A session ends after ``TTS_CONSOLE_IDLE_S`` without a request, ``TTS_CONSOLE_SESSION_MAX_S``
after sign-in however active, at sign-out, and as soon as its key leaves ``TTS_API_KEYS``.

Each session has its own CSRF token, which every form of the console sends back
(:mod:`.csrf`). Wrong keys are counted per client address, in the database so that every
process of a site shares the count (:meth:`SessionStore.signin_blocked`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from tts_service.console.schema import ensure_tables
from tts_service.console.tables import sessions, signin_failures
from tts_service.registry.db import Database
from tts_service.settings import ApiKey, Settings

__all__ = ["Session", "SessionStore", "key_digest"]


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def key_digest(key: ApiKey) -> str:
    """What a session remembers of its key's value: a salted digest, never the key."""
    return _sha256("tts-console-session:" + key.key.get_secret_value())


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in editor: the key it signed in with, and the session's CSRF token."""

    key: ApiKey
    csrf: str
    created: float
    seen: float


class SessionStore:
    """Sessions and failed sign-ins, in the registry's database."""

    def __init__(
        self, db: Database, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        ensure_tables(db)

    def start(self, key: ApiKey) -> tuple[str, Session]:
        """A new session for ``key``; returns the cookie's token (shown only here)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.write() as conn:
            # Expired sessions are swept here, at the rate editors sign in.
            conn.execute(
                sa.delete(sessions).where(
                    (sessions.c.seen < now - self.settings.console_idle_s)
                    | (sessions.c.created < now - self.settings.console_session_max_s)
                )
            )
            conn.execute(
                sa.insert(sessions).values(
                    id=_sha256(token),
                    key_name=key.name,
                    key_digest=key_digest(key),
                    csrf=csrf,
                    created=now,
                    seen=now,
                )
            )
        return token, Session(key, csrf, now, now)

    def find(self, token: str | None) -> Session | None:
        """The live session of cookie ``token``, its idle clock restarted; ``None`` if
        there is none, it expired (it is then removed) or its key is no longer configured."""
        if not token:
            return None
        now = self.clock()
        ident = _sha256(token)
        mine = sessions.c.id == ident
        with self.db.write() as conn:
            row = conn.execute(
                sa.select(
                    sessions.c.key_name,
                    sessions.c.key_digest,
                    sessions.c.csrf,
                    sessions.c.created,
                    sessions.c.seen,
                ).where(mine)
            ).first()
            if row is None:
                return None
            name, digest, csrf, created, seen = row
            key = self._key(str(name), str(digest))
            if key is None or self._expired(float(created), float(seen), now):
                conn.execute(sa.delete(sessions).where(mine))
                return None
            conn.execute(sa.update(sessions).where(mine).values(seen=now))
        return Session(key, str(csrf), float(created), now)

    def end(self, token: str | None) -> None:
        """Sign out: the session's row is removed, so its cookie opens nothing again."""
        if token:
            with self.db.write() as conn:
                conn.execute(sa.delete(sessions).where(sessions.c.id == _sha256(token)))

    # -- failed sign-ins ---------------------------------------------------------------

    def signin_blocked(self, client: str) -> float:
        """Seconds ``client`` must wait before trying a key again; 0 when it may."""
        now = self.clock()
        window = self.settings.console_signin_window_s
        with self.db.read() as conn:
            times = [
                float(at)
                for (at,) in conn.execute(
                    sa.select(signin_failures.c.at)
                    .where(signin_failures.c.client == client, signin_failures.c.at > now - window)
                    .order_by(signin_failures.c.at)
                )
            ]
        limit = self.settings.console_signin_attempts
        if len(times) < limit:
            return 0.0
        # Free again when the oldest failure that still counts leaves the window.
        oldest_counted = times[len(times) - limit]
        return max(1.0, oldest_counted + window - now)

    def signin_failed(self, client: str) -> None:
        """Count a wrong key tried by ``client``."""
        now = self.clock()
        with self.db.write() as conn:
            conn.execute(
                sa.delete(signin_failures).where(
                    signin_failures.c.at <= now - self.settings.console_signin_window_s
                )
            )
            conn.execute(sa.insert(signin_failures).values(client=client, at=now))

    # -- helpers -----------------------------------------------------------------------

    def _key(self, name: str, digest: str) -> ApiKey | None:
        for key in self.settings.api_keys:
            if key.name == name and secrets.compare_digest(key_digest(key), digest):
                return key
        return None

    def _expired(self, created: float, seen: float, now: float) -> bool:
        return (
            now - seen > self.settings.console_idle_s
            or now - created > self.settings.console_session_max_s
        )
