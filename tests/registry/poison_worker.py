"""A worker process that dies on one sentence: the subject of the poison-job test.

Run as ``python -m tests.registry.poison_worker`` with ``TTS_*`` settings in the
environment. It reads registered articles with the service's own worker pool, over a fake
engine that kills its own process (``SIGKILL``, as a crash in a native library would) when
asked to read a sentence containing :data:`POISON`. It exits 0 once no job is queued or
running any more, 3 if that does not happen within a minute.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from tests.helpers import text_tone
from tts_service.cache import AudioCache
from tts_service.registry.runtime import RegistryRuntime
from tts_service.registry.worker import JobOutcome
from tts_service.settings import Settings
from tts_service.synthesis import SpeechService
from tts_service.testing import FakeEngine

POISON = "câu độc"
_GIVE_UP_S = 60.0


def speak(text: str) -> bytes:
    """Fake speech, except for the poison sentence, which ends the process."""
    if POISON in text:
        os.kill(os.getpid(), signal.SIGKILL)
    return text_tone(text)


def main() -> int:
    settings = Settings(engine=("espeak",))
    cache = AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes)
    service = SpeechService(settings, engines={"fake": FakeEngine(speak, name="fake")}, cache=cache)
    runtime = RegistryRuntime(service, workers=1)
    idle = threading.Event()

    def on_outcome(_: JobOutcome) -> None:
        if not runtime.store.queue_depth():
            idle.set()

    runtime.pool.on_outcome = on_outcome
    try:
        runtime.start()
        return 0 if idle.wait(_GIVE_UP_S) else 3
    finally:
        runtime.close()
        service.close()


if __name__ == "__main__":
    sys.exit(main())
