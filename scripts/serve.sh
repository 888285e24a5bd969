#!/usr/bin/env bash
# Start the service with its embedded defaults: cache in ./audio_cache, gTTS with the
# offline eSpeak NG voice as fallback, on http://127.0.0.1:8000 (TTS_HOST, TTS_PORT).
source "$(dirname "$0")/_bootstrap.sh"
exec tts-service serve "$@"
