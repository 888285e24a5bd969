"""Registry database migrations, applied in order by ``registry.db``."""

__all__: list[str] = []
