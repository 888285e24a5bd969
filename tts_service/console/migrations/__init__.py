"""The console's schema migrations, applied in order by ``console.schema``."""

__all__: list[str] = []
