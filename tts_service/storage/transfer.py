"""Copy every audio object from one store to another: ``tts-service migrate-storage``.

An operator who outgrew one machine copies ``audio_cache/`` into a bucket
(``--from file:///srv/tts/audio_cache --to s3://tts-audio/portal``), then sets
``TTS_STORAGE_URL`` to the bucket; the index (in ``TTS_CACHE_DIR``, or the database of
``TTS_DATABASE_URL``) needs no change, since keys are the same in every store.

* **Resumable.** An object already in the target with the same size and SHA-256 is skipped,
  so running the command again after an interruption (Ctrl-C, a lost connection, a killed
  process) copies only what is missing.
* **Verified.** Every object copied is read back from the target and compared by SHA-256;
  an object present with other bytes (a corrupted or truncated copy) is copied again.
* **Never a half article.** An article's ``.json`` (what makes it servable) is copied after
  its ``.mp3`` and ``.vtt``, so a service already reading the target never sees an article
  whose audio is not there yet.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tts_service.errors import CacheError
from tts_service.storage.ports import BlobStore

__all__ = ["MigrationReport", "migrate_storage", "ordered_keys"]

logger = logging.getLogger(__name__)

# What the audio cache keeps in a store (anything else under the root is not ours).
_PREFIXES = ("chunks/", "articles/")


@dataclass
class MigrationReport:
    """What one run of :func:`migrate_storage` did."""

    copied: int = 0  # written to the target and verified
    skipped: int = 0  # already in the target with the same size and hash
    repaired: int = 0  # in the target with other bytes (corrupted): copied again
    vanished: int = 0  # listed in the source, gone when read (evicted meanwhile)
    bytes_copied: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        """0 when all is copied, 1 when any object failed, 130 when interrupted (SIGINT)."""
        if self.interrupted:
            return 130
        return 1 if self.failures else 0

    def summary(self) -> str:
        """The lines printed at the end of a run."""
        rows = [
            ("copied", f"{self.copied} ({self.bytes_copied:,} bytes)"),
            ("skipped (already there)", str(self.skipped)),
            ("repaired (differed)", str(self.repaired)),
            ("vanished (removed meanwhile)", str(self.vanished)),
            ("failed", str(len(self.failures))),
        ]
        width = max(len(label) for label, _ in rows) + 2
        lines = [f"{label + ':':<{width}}{value}" for label, value in rows]
        if self.failures:
            lines.append("failures:")
            lines.extend(f"  {key}: {why}" for key, why in self.failures)
        return "\n".join(lines)


def ordered_keys(store: BlobStore) -> Iterator[str]:
    """The store's audio keys, each article's ``.json`` after its other objects."""
    for prefix in _PREFIXES:
        keys = list(store.list(prefix))
        # articles/ab/<key>.json sorts before .mp3 and .vtt: put it last of its article.
        keys.sort(key=lambda k: (k.rsplit(".", 1)[0], k.endswith(".json"), k))
        yield from keys


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def migrate_storage(
    source: BlobStore,
    target: BlobStore,
    *,
    on_object: Callable[[str], None] | None = None,
) -> MigrationReport:
    """Copy every audio object of ``source`` into ``target``; see the module's docstring.

    ``on_object(key)`` is called after each object (a progress bar). A ``KeyboardInterrupt``
    ends the run early with ``interrupted`` set; what was copied stays, verified.
    """
    report = MigrationReport()
    try:
        for key in ordered_keys(source):
            _copy_one(source, target, key, report)
            if on_object is not None:
                on_object(key)
    except KeyboardInterrupt:
        report.interrupted = True
    return report


def _copy_one(source: BlobStore, target: BlobStore, key: str, report: MigrationReport) -> None:
    """Copy ``key`` unless the target has it already, and verify what was written."""
    try:
        data = source.get(key)
        if data is None:
            report.vanished += 1
            return
        digest = _sha256(data)
        existing = target.size(key)
        if existing == len(data):
            present = target.get(key)
            if present is not None and _sha256(present) == digest:
                report.skipped += 1
                return
        # Present with other bytes or another size: a corrupted or cut-short copy.
        repairing = existing is not None
        if repairing:
            logger.warning("%s differs in the target: copying it again", key)
        target.put_atomic(key, data)
        written = target.get(key)
        if written is None or _sha256(written) != digest:
            got = "nothing" if written is None else f"{len(written)} bytes, other content"
            report.failures.append((key, f"verification failed: read back {got}"))
            return
    except CacheError as exc:
        report.failures.append((key, str(exc)))
        return
    if repairing:
        report.repaired += 1
    else:
        report.copied += 1
    report.bytes_copied += len(data)
