"""Imported once by the text workers' fork server: the pipeline loaded and warmed there.

Every worker is forked from that server (see :class:`~tts_service.isolation.WorkerPool`),
so a worker, and the replacement of one killed for overrunning its deadline, starts with
underthesea and the rule tables already loaded: tens of milliseconds, not a second.
Nothing else imports this module.
"""

from __future__ import annotations

from tts_service import textwork

__all__: list[str] = []

textwork.warm()
