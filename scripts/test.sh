#!/usr/bin/env bash
# Run the whole test suite (offline; Google's endpoint is faked on loopback). First makes
# sure the browser and PostgreSQL the tests use are installed (scripts/install-test-deps.sh;
# TTS_NO_INSTALL=1 skips that step).
source "$(dirname "$0")/_bootstrap.sh"
if [ -z "${TTS_NO_INSTALL:-}" ]; then
  "$ROOT/scripts/install-test-deps.sh"
fi
exec python -m pytest "$@"
