"""Webhook deliveries: tell the CMS that registered an article that its audio is ready or failed.

Every call is a ``POST`` of a JSON body to the ``webhook_url`` of the API key that
registered the article::

    {"event": "article.ready", "delivery": 42, "created": "2024-05-01T08:30:00.250Z",
     "article": {...}}

with these headers:

- ``X-TTS-Event``: ``article.ready`` or ``article.failed``, as in the body.
- ``X-TTS-Delivery``: the delivery's id. Deliveries are retried, so a receiver may see
  the same one more than once (at-least-once delivery): de-duplicate on this id.
- ``X-TTS-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC keyed with
  the API key's ``webhook_secret`` over ``f"{t}."`` followed by the raw body bytes. ``t`` is
  the time of *this attempt*, so a receiver can refuse old requests (replays); more than
  one ``v1=`` may appear one day, while a secret is being rotated: accept any that matches.
- ``Content-Type: application/json`` and ``User-Agent: tts-service/<version>``.

To verify a call in the CMS, use the raw body as received (not re-serialised JSON)::

    import hashlib, hmac, time

    def verify(secret: str, header: str, body: bytes, tolerance_s: float = 300) -> bool:
        fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
        t = next((v for k, v in fields if k.strip() == "t"), "")
        if not (t.isascii() and t.isdigit()) or abs(time.time() - int(t)) > tolerance_s:
            return False  # missing, too old or from the future: maybe a replay
        expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        return any(
            hmac.compare_digest(v.strip().encode(), expected.hexdigest().encode())
            for k, v in fields if k.strip() == "v1"
        )

Answer any 2xx once the call is stored; do slow work afterwards, since the call times out
after ``TTS_WEBHOOK_TIMEOUT_S``.

Retries: deliveries live in the registry's ``deliveries`` table, so a restart loses none.
One sender thread per process sends due deliveries oldest first; network errors, timeouts,
3xx (redirects are not followed: a signed body goes only to the configured URL), 5xx,
408, 425 and 429 are tried again after an exponential backoff with full jitter
(``backoff_base_s * 2**n``, capped at ``backoff_max_s``; a ``Retry-After`` wins, capped
alike), up to ``attempts`` tries in all. Other 4xx answers fail the delivery at once: the
receiver understood the request and refused it, and the same bytes will be refused again;
answer 410 Gone to say the endpoint was removed on purpose.
The URL and secret are looked up at every attempt, so a corrected ``TTS_API_KEYS``
applies to deliveries still queued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx
import sqlalchemy as sa

from tts_service import __version__
from tts_service.backoff import backoff_s
from tts_service.errors import RegistryError
from tts_service.registry.db import Database
from tts_service.registry.tables import deliveries
from tts_service.settings import ApiKey, Settings

__all__ = ["EVENTS", "Delivery", "Webhooks", "iso_utc", "sign", "verify"]

logger = logging.getLogger(__name__)

EVENTS: Final = ("article.ready", "article.failed")

# 408 Request Timeout, 425 Too Early and 429 Too Many Requests ask us to come back later;
# every other 4xx is the receiver refusing these very bytes. 410 Gone in particular is
# the receiver saying the endpoint was removed on purpose (the Standard Webhooks
# convention): retrying would only knock on a closed door.
_RETRYABLE_4XX: Final = frozenset({408, 425, 429})
# Enough of the receiver's answer to explain a refusal in last_error, no more in memory.
_MAX_ANSWER_BYTES: Final = 64 * 1024
_ERROR_CHARS: Final = 300
# The sender wakes at least this often even with nothing due here, to find rows another
# process (a second uvicorn worker, one that died) left behind; enqueue() wakes it at once.
_IDLE_RECHECK_S: Final = 60.0
# Seconds before looking again after the registry itself failed (locked, disk full).
_RECOVER_S: Final = 5.0


def iso_utc(timestamp: float) -> str:
    """``timestamp`` (Unix seconds) as ISO 8601 UTC, e.g. ``2024-05-01T08:30:00.250Z``.

    For callers putting times into a webhook's ``article`` payload.
    """
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-TTS-Signature`` value for ``body`` sent at ``timestamp``: ``t=…,v1=…``."""
    message = f"{timestamp}.".encode("ascii") + body
    mac = hmac.new(secret.encode("utf-8"), message, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: float = 300,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance_s`` old.

    Timestamps further than ``tolerance_s`` in the future fail too (a receiver's clock may
    lag, not by minutes). Any ``v1=`` may match; unknown schemes are ignored, so a future
    ``v2=`` next to ``v1=`` keeps verifying. A malformed header is False, never an error.
    """
    stamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        scheme, sep, value = part.strip().partition("=")
        if not sep:
            continue
        # At most 12 digits (seconds until the year 33658): a longer "number" would not
        # even convert (int() refuses 4,300 digits, a float overflows past 10^308).
        if scheme == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            stamp = int(value)
        elif scheme == "v1":
            candidates.append(value)
    if stamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_s:
        return False
    expected = sign(secret, stamp, body).rsplit("v1=", 1)[1]
    # compare_digest on every candidate, no early exit: timing reveals nothing about which.
    matches = [hmac.compare_digest(c.encode(), expected.encode()) for c in candidates]
    return any(matches)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook call as stored; times are Unix seconds."""

    id: int
    owner: str
    event: str
    body: str
    state: str  # queued | delivered | failed
    attempts: int
    next_attempt: float
    last_status: int | None
    last_error: str | None
    created: float
    updated: float
    delivered: float | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one attempt came to."""

    status: int | None
    error: str | None
    retry: bool
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Webhooks:
    """Persists webhook deliveries and sends them from one background thread.

    Args:
        db: the registry database holding the ``deliveries`` table.
        keys: the API keys; a delivery goes to its owner's ``webhook_url``.
        attempts: tries per delivery, the first included, before it is marked failed.
        backoff_base_s: the first backoff ceiling; it doubles after each failed try.
        backoff_max_s: the longest wait between tries, ``Retry-After`` included.
        timeout_s: httpx's connect, write and read timeouts of each call.
        transport: an httpx transport for the client (tests); None = the network.
    """

    def __init__(
        self,
        db: Database,
        keys: Sequence[ApiKey],
        *,
        attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        timeout_s: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if attempts < 1 or backoff_base_s < 0 or backoff_max_s < 0 or timeout_s <= 0:
            raise ValueError("attempts must be >= 1, backoff >= 0 and timeout_s > 0")
        self._db = db
        self._keys = {key.name: key for key in keys}
        self.attempts = attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.timeout_s = timeout_s
        self._transport = transport
        # A claimed delivery is not due again for this long, so another process's sender
        # leaves it alone while ours sends; if ours dies mid-call, it is resumed after.
        # Four phases (connect, write, read, pool) may each take up to timeout_s.
        self._lease_s = 4 * timeout_s + 5
        self._rng = random.Random()
        self._wake = threading.Condition()
        self._poked = False
        self._closing = False
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> Webhooks:
        """Webhooks for ``settings.api_keys`` with the ``TTS_WEBHOOK_*`` retry settings."""
        return cls(
            db,
            settings.api_keys,
            attempts=settings.webhook_attempts,
            backoff_base_s=settings.webhook_backoff_base_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            timeout_s=settings.webhook_timeout_s,
        )

    # -- queue -----------------------------------------------------------------------

    def enqueue(self, owner: str | None, event: str, payload: dict[str, Any]) -> int | None:
        """Store one delivery of ``event`` to ``owner``'s webhook and wake the sender.

        ``payload`` becomes the body's ``article`` unchanged; it must be JSON-serialisable
        (times as :func:`iso_utc` strings). Returns the delivery id, or None when the
        article has no owner or the owner's key has no webhook_url.

        Raises:
            ValueError: ``event`` is not one of :data:`EVENTS`.
            TypeError: ``payload`` cannot be serialised to JSON.
            RegistryError: the delivery could not be stored.
        """
        if event not in EVENTS:
            raise ValueError(f"unknown webhook event {event!r}; expected one of {EVENTS}")
        key = self._keys.get(owner) if owner is not None else None
        if owner is None or key is None or key.webhook_url is None:
            logger.debug("no webhook for %s of an article owned by %s", event, owner)
            return None
        now = time.time()
        with self._db.write() as conn:
            inserted = conn.execute(
                sa.insert(deliveries).values(
                    owner=owner,
                    event=event,
                    body="",
                    state="queued",
                    attempts=0,
                    next_attempt=now,
                    created=now,
                    updated=now,
                )
            ).inserted_primary_key
            if inserted is None or inserted[0] is None:  # pragma: no cover - always set
                raise RegistryError("the registry returned no id for a new delivery")
            delivery_id = int(inserted[0])
            # The id is part of the body, so the body is written once the row has one;
            # a payload that is not JSON raises here and rolls the insert back.
            body = {
                "event": event,
                "delivery": delivery_id,
                "created": iso_utc(now),
                "article": payload,
            }
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")))
            )
        logger.info("webhook delivery %s queued: %s to %s", delivery_id, event, owner)
        self._poke()
        return delivery_id

    def pending(self) -> int:
        """Deliveries still to be sent (queued, backing off, or being sent)."""
        with self._db.read() as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(deliveries.c.state == "queued")
            ).scalar_one()
        return int(count)

    def get(self, delivery_id: int) -> Delivery | None:
        """The delivery with this id, or None."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
        return None if row is None else Delivery(*row)

    # -- lifecycle -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the sender thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the sender thread; queued deliveries from before a restart go first."""
        with self._wake:
            if self._closing:
                raise RuntimeError("Webhooks was closed; make a new one")
            if self._thread is not None:
                return
            client = httpx.Client(
                transport=self._transport,
                timeout=self.timeout_s,
                follow_redirects=False,
                headers={"User-Agent": f"tts-service/{__version__}"},
            )
            self._thread = threading.Thread(
                target=self._run, args=(client,), name="tts-webhooks", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the sender, after it has sent what is due now (for at most ``timeout_s``).

        A worker that finishes an article and stops tells the CMS before it exits, not a
        minute later from another process's next look. Deliveries backing off, or still
        due when the time is up, stay queued for the next start. Idempotent.
        """
        with self._wake:
            self._closing = True
            self._wake.notify_all()
            thread = self._thread
        if thread is None:
            return
        # A call in flight ends within its timeouts and its result is recorded before exit;
        # the last sends take at most timeout_s more, plus the call they started.
        thread.join(self._lease_s + self.timeout_s)
        if thread.is_alive():
            logger.warning("the webhook sender is still in a call; its delivery will be retried")

    def _poke(self) -> None:
        """Wake the sender: something may be due now."""
        with self._wake:
            self._poked = True
            self._wake.notify_all()

    # -- sender thread ---------------------------------------------------------------

    def _run(self, client: httpx.Client) -> None:
        """Send due deliveries, then wait on the condition until the next is due."""
        try:
            while True:
                with self._wake:
                    if self._closing:
                        break
                    # Cleared before looking, so an enqueue() while we look is not missed.
                    self._poked = False
                try:
                    next_due = self._send_due(client)
                    wait = _IDLE_RECHECK_S if next_due is None else next_due - time.time()
                except RegistryError:
                    logger.exception("webhook sender: the registry failed; trying again soon")
                    wait = _RECOVER_S
                except Exception:
                    # A bug must not silently end every later delivery with this thread.
                    logger.exception("webhook sender: unexpected error; trying again soon")
                    wait = _RECOVER_S
                with self._wake:
                    if not self._poked and not self._closing and wait > 0:
                        self._wake.wait(min(wait, _IDLE_RECHECK_S))
            self._send_last(client)
        finally:
            client.close()

    def _send_last(self, client: httpx.Client) -> None:
        """On close, send the deliveries due now until ``timeout_s`` has passed.

        An enqueue() just before close() (a job's last outcome) may not have been looked at
        yet; without this it would wait for another process's next idle look.
        """
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            try:
                claimed, _ = self._claim(time.time())
                if claimed is None:
                    return
                self._record(claimed, self._attempt(client, claimed))
            except Exception:
                logger.exception("webhook sender: could not send the last deliveries")
                return

    def _send_due(self, client: httpx.Client) -> float | None:
        """Send every due delivery, oldest first; the time the next one is due, if any."""
        while True:
            with self._wake:
                if self._closing:
                    return None
            claimed, next_due = self._claim(time.time())
            if claimed is None:
                return next_due
            outcome = self._attempt(client, claimed)
            self._record(claimed, outcome)

    def _claim(self, now: float) -> tuple[Delivery | None, float | None]:
        """Take the oldest due delivery for this sender, or say when the next is due."""
        queued = deliveries.c.state == "queued"
        with self._db.write() as conn:
            # SKIP LOCKED (PostgreSQL; SQLite's BEGIN IMMEDIATE is exclusive already): two
            # processes' senders never take the same delivery.
            row = conn.execute(
                sa.select(deliveries)
                .where(queued, deliveries.c.next_attempt <= now)
                .order_by(deliveries.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                next_due = conn.execute(
                    sa.select(sa.func.min(deliveries.c.next_attempt)).where(queued)
                ).scalar_one()
                return None, None if next_due is None else float(next_due)
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == row[0])
                .values(next_attempt=now + self._lease_s, updated=now)
            )
        return Delivery(*row), None

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> _Outcome:
        """POST the delivery once; never raises for what the network or receiver does."""
        key = self._keys.get(delivery.owner)
        if key is None or key.webhook_url is None or key.webhook_secret is None:
            # The key or its webhook was removed from TTS_API_KEYS since this was queued.
            return _Outcome(None, f"API key {delivery.owner!r} has no webhook now", retry=False)
        body = delivery.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-TTS-Event": delivery.event,
            "X-TTS-Delivery": str(delivery.id),
            "X-TTS-Signature": sign(key.webhook_secret.get_secret_value(), int(time.time()), body),
        }
        try:
            with client.stream("POST", key.webhook_url, content=body, headers=headers) as answer:
                text = _read_some(answer)
                status = answer.status_code
                retry_after = _retry_after(answer.headers.get("Retry-After"))
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return _Outcome(None, f"unusable webhook_url: {type(exc).__name__}", retry=False)
        except httpx.HTTPError as exc:
            return _Outcome(None, _clip(f"{type(exc).__name__}: {exc}"), retry=True)
        if 200 <= status < 300:
            return _Outcome(status, None, retry=False)
        retry = status < 400 or status >= 500 or status in _RETRYABLE_4XX
        error = _clip(f"HTTP {status}: {text}" if text else f"HTTP {status}")
        return _Outcome(status, error, retry=retry, retry_after=retry_after)

    def _record(self, delivery: Delivery, outcome: _Outcome) -> None:
        """Store the attempt: delivered, failed for good, or queued again after a backoff."""
        now = time.time()
        attempts = delivery.attempts + 1
        if outcome.ok:
            state, next_attempt = "delivered", now
        elif outcome.retry and attempts < self.attempts:
            state = "queued"
            next_attempt = now + self._backoff(attempts, outcome.retry_after)
        else:
            state, next_attempt = "failed", now
        with self._db.write() as conn:
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == delivery.id)
                .values(
                    state=state,
                    attempts=attempts,
                    next_attempt=next_attempt,
                    last_status=outcome.status,
                    last_error=outcome.error,
                    updated=now,
                    delivered=now if outcome.ok else None,
                )
            )
        what = f"HTTP {outcome.status}" if outcome.status is not None else outcome.error
        if state == "delivered":
            logger.info("webhook delivery %s delivered (attempt %d)", delivery.id, attempts)
        elif state == "queued":
            logger.info(
                "webhook delivery %s to %s: attempt %d failed (%s); retrying in %.1f s",
                delivery.id,
                delivery.owner,
                attempts,
                what,
                next_attempt - now,
            )
        else:
            logger.warning(
                "webhook delivery %s (%s to %s) failed after %d attempt(s): %s",
                delivery.id,
                delivery.event,
                delivery.owner,
                attempts,
                what,
            )

    def _backoff(self, failed: int, retry_after: float | None) -> float:
        """Seconds before the try after ``failed`` failed ones.

        The receiver's ``Retry-After`` wins when given, capped by ``backoff_max_s``;
        otherwise "full jitter" below ``backoff_base_s * 2**(failed - 1)``, never above
        ``backoff_max_s`` (:func:`tts_service.backoff.backoff_s`), so deliveries that
        failed together during an outage do not all come back together when the CMS does.
        """
        return backoff_s(
            failed,
            base_s=self.backoff_base_s,
            max_s=self.backoff_max_s,
            retry_after=retry_after,
            rng=self._rng,
        )


def _read_some(answer: httpx.Response) -> str:
    """The start of the receiver's answer; a long one is cut off rather than held in memory."""
    data = b""
    for chunk in answer.iter_bytes():
        data += chunk
        if len(data) >= _MAX_ANSWER_BYTES:
            break
    return data[:_ERROR_CHARS].decode("utf-8", "replace").strip()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _clip(text: str) -> str:
    """``text`` short enough for a log line and a database column."""
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"
