"""All of the service's settings, in one place, read from ``TTS_*`` environment variables.

Every field here is listed with its default in the README's "Settings" table.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["ApiKey", "Settings", "get_settings"]


class ApiKey(BaseModel):
    """A client of the editors' API (a portal's CMS) and where its callbacks go.

    ``TTS_API_KEYS`` is a JSON list of these, e.g.
    ``[{"name": "cms", "key": "…", "webhook_url": "https://cms/tts-hook", "webhook_secret": "…"}]``.
    """

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    key: SecretStr = Field(min_length=16)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _signed(self) -> ApiKey:
        """An unsigned callback could be forged by anyone who can reach the CMS."""
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(f"API key {self.name!r}: a webhook_url needs a webhook_secret")
        return self


class Settings(BaseSettings):
    """Service configuration; each field maps to ``TTS_<FIELD NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="TTS_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    # Engines, in fallback order: gTTS first; when Google keeps failing, eSpeak NG reads.
    engine: Annotated[tuple[str, ...], NoDecode] = ("gtts", "espeak")
    cache_dir: Path = Path("audio_cache")
    cache_max_bytes: int = Field(default=2 * 1024**3, ge=1024 * 1024)
    max_text_chars: int = Field(default=100_000, ge=1)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    site_lexicon: Path | None = None

    # Abuse limits on the public read endpoint (see tts_service.api.limits).
    # Largest request body; None = 4 × max_text_chars × 4 bytes (HTML may be 4× the text,
    # a character up to 4 UTF-8 bytes): 1.6 MB with the defaults.
    max_body_bytes: int | None = Field(default=None, ge=1024)
    # New syntheses a client may start a minute, and at once after a quiet spell; 0 = off.
    client_synth_per_minute: float = Field(default=10.0, ge=0)
    client_synth_burst: int = Field(default=5, ge=1)
    # Articles listeners have being read at once, across all clients; a new one beyond that
    # gets 503. Registry jobs are not counted: they have TTS_WORKERS threads of their own.
    max_concurrent_jobs: int = Field(default=16, ge=1)
    # Of those, how many one client may have at once (beyond it: 429), so a client keeping to
    # its per-minute budget with long articles cannot take every slot: with the defaults at
    # least four clients are always served.
    client_max_jobs: int = Field(default=4, ge=1)
    # Refuse new syntheses on /v1/read: listeners get only audio made already (registered
    # articles by id, or audio read before). For portals that register every article.
    read_registered_only: bool = False
    # Origins allowed to call /v1/read (checked on Origin, else Referer); empty = any.
    read_origins: Annotated[tuple[str, ...], NoDecode] = ()

    # Reading a page by its URL: only these hosts (and their subdomains) are fetched.
    fetch_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    fetch_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_timeout_s: float = Field(default=10.0, gt=0)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)

    gtts_base_url: str = "https://translate.google.com"
    gtts_tld: str = "com"
    gtts_slow: bool = False
    gtts_concurrency: int = Field(default=8, ge=1, le=64)
    gtts_timeout_s: float = Field(default=10.0, gt=0)
    gtts_retries: int = Field(default=3, ge=0, le=10)
    gtts_backoff_base_s: float = Field(default=0.5, ge=0)
    gtts_backoff_max_s: float = Field(default=8.0, ge=0)
    # Requests to Google a minute, retries included, across all articles; 0 = unlimited.
    gtts_requests_per_minute: int = Field(default=300, ge=0)
    # Requests that may go at once after a quiet spell: one whole article (the seed article
    # needs 51), so a single listener is served at full concurrency while the sustained
    # rate stays at gtts_requests_per_minute.
    gtts_burst: int = Field(default=60, ge=1)
    # Failed chunks in a row (each after its retries) after which Google is left alone for
    # a cool-down and the fallback voice reads at once; the cool-down doubles per failed
    # probe up to the max (CircuitBreaker refuses a max below the first cool-down).
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, gt=0)
    breaker_max_cooldown_s: float = Field(default=600.0, gt=0)

    espeak_rate_wpm: int = Field(default=165, ge=80, le=450)
    espeak_pitch: int = Field(default=50, ge=0, le=99)

    sentence_pause_ms: int = Field(default=350, ge=0, le=5000)
    paragraph_pause_ms: int = Field(default=800, ge=0, le=10000)
    # How long a stream that has started waits for the next chunk before giving up on the
    # listener's behalf. Not while its article is queued: it waits to start, however long.
    stream_timeout_s: float = Field(default=120.0, gt=0)
    # How long audio read by a fallback voice stands in for the primary voice's audio.
    fallback_ttl_s: float = Field(default=600.0, ge=0)

    # The article registry (editors' API and `tts-service pregenerate`); unset = in the
    # cache directory, beside the pinned audio it refers to (back them up together).
    registry_path: Path | None = None
    # Clients of the editors' API; none = the API answers 401 to every write.
    api_keys: tuple[ApiKey, ...] = ()
    # Registered articles read at once by the background workers of each process.
    workers: int = Field(default=2, ge=0, le=32)
    # A running job's lease; a job whose process died is resumed once its lease runs out.
    job_lease_s: float = Field(default=30.0, gt=0)
    job_attempts: int = Field(default=5, ge=1)
    job_backoff_base_s: float = Field(default=10.0, ge=0)
    job_backoff_max_s: float = Field(default=900.0, ge=0)
    # Webhook calls: tries before giving up (12 tries from 10 s, doubling, capped at an hour:
    # about 3½ hours of a CMS being down), backoff between them, each call's timeout.
    webhook_attempts: int = Field(default=12, ge=1)
    webhook_backoff_base_s: float = Field(default=10.0, ge=0)
    webhook_backoff_max_s: float = Field(default=3600.0, ge=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # Articles per page of GET /v1/articles.
    page_size: int = Field(default=50, ge=1, le=1000)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Seconds a client has to send its request headers (its body: the same, then at least
    # 500 bytes a second); slower ones get 408, so they cannot hold connections open.
    header_timeout_s: float = Field(default=10.0, gt=0)
    log_level: str = "info"
    # One JSON object per log line for log shippers, or plain text for a terminal.
    log_format: Literal["json", "text"] = "json"

    @property
    def registry_file(self) -> Path:
        """Where the article registry's database is."""
        return self.registry_path or self.cache_dir / "registry.sqlite3"

    @field_validator("engine", "cors_origins", "fetch_allowed_hosts", "read_origins", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        """Accept ``gtts,espeak`` from the environment as well as a list."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("engine")
    @classmethod
    def _known_engines(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Fail at start-up, not on the first request, when an engine name is wrong."""
        known = {"gtts", "espeak"}
        unknown = [name for name in value if name not in known]
        if not value or unknown:
            raise ValueError(f"TTS_ENGINE must list engines from {sorted(known)}, got {value}")
        return value


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings; a FastAPI dependency tests can override."""
    return Settings()
