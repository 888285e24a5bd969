"""All of the service's settings, in one place, read from ``TTS_*`` environment variables.

Every field here is listed with its default in docs/settings.md.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["ApiKey", "Role", "Settings", "get_settings"]


#: What a key may do: ``cms`` its own articles; ``admin`` every article and the site-wide
#: settings (the lexicon). See :func:`tts_service.registry.access.may_access`.
Role = Literal["cms", "admin"]
# Shorter keys can be guessed; a key is compared whole, so length is all its strength.
_MIN_KEY_CHARS = 16


class ApiKey(BaseModel):
    """A client of the editors' API (a portal's CMS or an editor-in-chief) and its callbacks.

    ``TTS_API_KEYS`` is a JSON list of these, e.g. ``[{"name": "cms", "key": "…",
    "webhook_url": "https://cms/tts-hook", "webhook_secret": "…"}, {"name": "bientap",
    "key": "…", "role": "admin"}]``. The ``name`` owns the articles the key registers; two
    keys with one name are one client (rotate a key by adding the new one under the same
    name, then removing the old), so they must agree on role and webhook.
    """

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    key: SecretStr
    role: Role = "cms"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # A podcast feed of this key's articles at /v1/feeds/<name>.xml, under this title;
    # None (the default) = no feed: a CMS's list of articles is public only if it says so.
    feed_title: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _long_enough(self) -> ApiKey:
        """Refuse a short key by its name, never by its value (start-up errors are logged)."""
        length = len(self.key.get_secret_value())
        if length < _MIN_KEY_CHARS:
            raise ValueError(
                f"API key {self.name!r}: a key needs at least {_MIN_KEY_CHARS} characters, "
                f"this one has {length}"
            )
        return self

    @model_validator(mode="after")
    def _signed(self) -> ApiKey:
        """An unsigned callback could be forged by anyone who can reach the CMS."""
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(f"API key {self.name!r}: a webhook_url needs a webhook_secret")
        return self


class Settings(BaseSettings):
    """Service configuration; each field maps to ``TTS_<FIELD NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="TTS_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        # Errors name the setting and what is wrong, never the value given: API keys and
        # webhook secrets would otherwise be printed in clear at start-up.
        hide_input_in_errors=True,
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
    # Requests a client may make a minute to POST /v1/normalize (each processes its text),
    # and at once after a quiet spell; 0 = off.
    client_text_per_minute: float = Field(default=30.0, ge=0)
    client_text_burst: int = Field(default=10, ge=1)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDR ranges,
    # comma-separated; "*" = any); empty = none, clients are the TCP peers. Also read from
    # uvicorn's own FORWARDED_ALLOW_IPS, which earlier versions of this README named.
    forwarded_allow_ips: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        validation_alias=AliasChoices(
            # The first one set wins (the field's own name is last: in the environment it
            # would match uvicorn's variable, case being ignored).
            "TTS_FORWARDED_ALLOW_IPS",
            "FORWARDED_ALLOW_IPS",
            "forwarded_allow_ips",
        ),
    )

    # Untrusted text (extraction, normalisation, chunking) is processed in this many worker
    # processes, each request's step within the deadline (seconds) or refused with 422.
    text_workers: int = Field(default=2, ge=1, le=32)
    text_deadline_s: float = Field(default=10.0, gt=0)
    # Address space of each of those workers (MiB): a worker warmed up uses about 100, a
    # 100,000-character article a little more; an input that makes a rule allocate
    # without bound meets this limit (422), not the machine's memory.
    text_worker_memory_mb: int = Field(default=1024, ge=256)

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
    # The editors' console (/console/, docs/console.md): a session ends after this long
    # without a request, and this long after sign-in however busy the editor is.
    console_idle_s: float = Field(default=1800.0, ge=30)
    console_session_max_s: float = Field(default=43200.0, ge=60)
    # Wrong keys one client address may try in a window before sign-in refuses it (429).
    console_signin_attempts: int = Field(default=5, ge=1)
    console_signin_window_s: float = Field(default=900.0, gt=0)
    # Listening reports (POST /v1/listens) one client address may send a minute, and at
    # once; more get 429. The address is only held in memory for this count, never stored.
    listens_per_minute: int = Field(default=60, ge=1)
    listens_burst: int = Field(default=20, ge=1)

    # Cluster mode (docs/cluster.md). Audio goes to storage_url; the article registry, the
    # audio index and coordination read database_url.
    # Where audio objects live: file://<dir> or s3://bucket/prefix; unset = file://<cache_dir>.
    storage_url: str | None = None
    # The S3 API of a store other than AWS (SeaweedFS, MinIO, Ceph); credentials and region
    # come from the standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION.
    s3_endpoint_url: str | None = None
    # Where the stored audio is served publicly (a CDN, a public bucket, an nginx location
    # over the cache directory); unset = presigned URLs for S3, the Python path for files.
    audio_public_url: str | None = None
    # How long a presigned audio URL stays valid.
    audio_url_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Send listeners of complete audio to the store's URL (presigned for a private bucket)
    # even without TTS_AUDIO_PUBLIC_URL (which turns redirects on by itself).
    audio_redirect: bool = False
    # nginx in front: complete audio is answered with X-Accel-Redirect: <this prefix><key>,
    # an internal location mapping keys to the store (e.g. /_audio/); unset = not used.
    audio_accel_redirect: str | None = None
    # The database of the index, registry, jobs and coordination: sqlite:///<file> or
    # postgresql+psycopg://user@host:5432/db; unset = SQLite files: the registry at
    # registry_path, the audio index in index.sqlite3 in cache_dir, coordination in memory.
    database_url: str | None = None
    # How processes coordinate (single flight, Google's budget, the breaker): "auto" is in
    # memory for one process, through TTS_DATABASE_URL when it is set; "shared" also
    # without it, through a SQLite file in the cache directory (what
    # `tts-service serve --workers N` sets for N > 1).
    coordination: Literal["auto", "shared"] = "auto"
    # How long an article's or chunk's claim outlives a producer that stopped renewing it
    # (renewed every third of it): after a crash, another process takes over after this.
    lease_ttl_s: float = Field(default=30.0, gt=0)
    # How often a process following an article another process makes looks at the stored
    # chunks itself (notifications wake it sooner; they are a hint, the look is the truth).
    follow_poll_s: float = Field(default=0.5, gt=0, le=10)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Seconds a client has to send its request headers (its body: the same, then at least
    # 500 bytes a second); slower ones get 408, so they cannot hold connections open.
    header_timeout_s: float = Field(default=10.0, gt=0)
    log_level: str = "info"
    # One JSON object per log line for log shippers, or plain text for a terminal.
    log_format: Literal["json", "text"] = "json"
    # Seconds between returns of the allocator's free memory to the system (0: never), so
    # memory goes back down after a burst of long articles (observability/memory.py).
    memory_trim_s: float = Field(default=30.0, ge=0)

    @property
    def registry_file(self) -> Path:
        """Where the article registry's database is."""
        return self.registry_path or self.cache_dir / "registry.sqlite3"

    @property
    def registry_database(self) -> str:
        """The article registry's database URL: ``TTS_DATABASE_URL``, else its SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.registry_file}"

    @property
    def storage_location(self) -> str:
        """``TTS_STORAGE_URL``, or the cache directory as a ``file://`` URL."""
        if self.storage_url:
            return self.storage_url
        return f"file://{self.cache_dir.as_posix()}"

    @field_validator("audio_accel_redirect")
    @classmethod
    def _internal_location(cls, value: str | None) -> str | None:
        """An nginx location: a path that starts and ends with ``/``."""
        if value is not None and not (value.startswith("/") and value.endswith("/")):
            raise ValueError(
                f"TTS_AUDIO_ACCEL_REDIRECT must be a path like /_audio/ (with both slashes), "
                f"got {value!r}"
            )
        return value

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str | None) -> str | None:
        """Fail at start-up on a storage URL no store can open."""
        if value is not None and not value.startswith(("file://", "s3://")):
            raise ValueError(f"TTS_STORAGE_URL must start with file:// or s3://, got {value!r}")
        return value

    @field_validator(
        "engine",
        "cors_origins",
        "fetch_allowed_hosts",
        "read_origins",
        "forwarded_allow_ips",
        mode="before",
    )
    @classmethod
    def _split_csv(cls, value: object) -> object:
        """Accept ``gtts,espeak`` from the environment as well as a list."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_keys")
    @classmethod
    def _one_client_per_name(cls, keys: tuple[ApiKey, ...]) -> tuple[ApiKey, ...]:
        """A name owns articles and receives their webhooks: its keys must agree on both.

        And one key value must not belong to two names: which one would own the articles?
        """
        by_name: dict[str, ApiKey] = {}
        values: dict[str, str] = {}
        for key in keys:
            first = by_name.setdefault(key.name, key)
            if (first.role, first.webhook_url, first.webhook_secret) != (
                key.role,
                key.webhook_url,
                key.webhook_secret,
            ):
                raise ValueError(
                    f"API keys named {key.name!r} differ in role or webhook; keys sharing a "
                    "name are one client (a key being rotated)"
                )
            owner = values.setdefault(key.key.get_secret_value(), key.name)
            if owner != key.name:
                raise ValueError(f"API keys {owner!r} and {key.name!r} have the same key")
        return keys

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
