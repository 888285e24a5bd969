#!/usr/bin/env bash
# Install what the whole test suite needs beyond Python packages, so that nothing is skipped:
# Debian's Chromium, a Vietnamese font and axe-core for the browser tests
# (scripts/install-browser-deps.sh), and PostgreSQL 15 for the storage and coordination tests
# (they start their own server on loopback; SeaweedFS comes from PyPI with the dev extra), and
# nginx for the X-Accel-Redirect audio tests and bench/bench_audio_serving.py (started by the
# tests on loopback as an unprivileged configuration; the package's own service is not used).
# Idempotent and quick when everything is there. Without root or sudo it says what is
# missing and the tests that need it are skipped (or fail, with CI=1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo"
  else
    echo "install-test-deps: not root and no sudo; browser and PostgreSQL tests may be skipped" >&2
    exit 0
  fi
fi
"$ROOT/scripts/install-browser-deps.sh"
if ! command -v pg_config >/dev/null || [ ! -x "$(pg_config --bindir)/initdb" ]; then
  echo "Installing PostgreSQL 15 with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    postgresql-15 >/dev/null
fi
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "Installing nginx with apt-get" >&2
  $SUDO apt-get update -qq
  # The tests start nginx themselves, on a free loopback port with their own configuration
  # (tests/infra/nginx.py); they never use the package's own service.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    nginx >/dev/null
fi
