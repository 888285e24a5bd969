# Production image: uvicorn serving tts_service as a non-root user.
# BASE is any Debian bookworm image with Python 3.11: python:3.11-slim-bookworm from a
# registry, or the one scripts/build-image.sh makes with mmdebstrap where no registry is
# reachable (CI).
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    TTS_HOST=0.0.0.0 \
    TTS_PORT=8000 \
    TTS_CACHE_DIR=/data/audio_cache

# ffmpeg comes from the imageio-ffmpeg wheel (tts_service.audio.convert never uses PATH),
# so Debian's is not installed. curl serves HEALTHCHECK; python3-venv is already in
# python:3.11-slim and is needed on a plain Debian base.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && (python3 -m venv --help >/dev/null 2>&1 || apt-get install -y --no-install-recommends python3-venv) \
 && rm -rf /var/lib/apt/lists/*

# Where the build reaches PyPI through a TLS-inspecting proxy, the builder passes that CA
# bundle (scripts/build-image.sh mounts the host's); it is used by pip only, not kept.
ARG PIP_CERT=

WORKDIR /app

# Dependencies first, in their own layer, from the lock with its hashes, so a source change
# does not reinstall them and two builds a month apart install the same versions.
COPY requirements/prod.lock ./requirements/prod.lock
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m venv /opt/venv \
 && pip install ${PIP_CERT:+--cert "$PIP_CERT"} --require-hashes -r requirements/prod.lock

COPY pyproject.toml README.md ./
COPY tts_service ./tts_service
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install ${PIP_CERT:+--cert "$PIP_CERT"} --no-deps . \
 && rm -rf /app/tts_service /app/build

RUN useradd --system --uid 10001 --home /app tts \
 && mkdir -p /data/audio_cache \
 && chown -R tts /data
USER tts
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${TTS_PORT}/healthz" || exit 1

# `tts-service serve` (TTS_HOST, TTS_PORT) rather than bare uvicorn: it adds the deadlines
# for slow clients (TTS_HEADER_TIMEOUT_S) and one log format from the first line.
CMD ["tts-service", "serve"]
