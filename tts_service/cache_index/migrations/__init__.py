"""The audio index's schema steps (component ``audio_index``), run by
:func:`tts_service.storage.migrate.migrate`."""

__all__: list[str] = []
