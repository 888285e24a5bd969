"""The article registry: articles editors register, their jobs, webhooks and the lexicon."""

__all__: list[str] = []
