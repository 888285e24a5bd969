# syntax=docker/dockerfile:1.7
# Production image: uvicorn serving tts_service as a non-root user.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TTS_HOST=0.0.0.0 \
    TTS_PORT=8000 \
    TTS_CACHE_DIR=/data/audio_cache

# ffmpeg lets pydub transcode the rare engine answer that is not in the house format
# (the wheel-shipped ffmpeg from imageio-ffmpeg is the fallback); curl serves HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer, so a source change does not reinstall them.
COPY pyproject.toml README.md ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml","rb"))["project"]["dependencies"]))' \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

COPY tts_service ./tts_service
RUN --mount=type=cache,target=/root/.cache/pip pip install --no-deps .

RUN useradd --system --uid 10001 --home /app tts \
 && mkdir -p /data/audio_cache \
 && chown -R tts /data
USER tts
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${TTS_PORT}/healthz" || exit 1

# `tts-service serve` (TTS_HOST, TTS_PORT) rather than bare uvicorn: it adds the deadlines
# for slow clients (TTS_HEADER_TIMEOUT_S). Proxy headers are on by default; trust the
# proxy with FORWARDED_ALLOW_IPS=<its address>.
CMD ["tts-service", "serve"]
