#!/usr/bin/env bash
# Install what the browser tests (tests/browser) need: Debian's Chromium, a font with
# Vietnamese glyphs, and axe-core from npm (tests/browser/package-lock.json).
# Idempotent: when everything is already there it only checks, in about a second.
# Playwright's own browser download is never used (it cannot work offline); the tests drive
# /usr/bin/chromium through the Python playwright package from the dev extra.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-core 2>/dev/null | grep -q "ok installed" \
  || missing+=(fonts-noto-core)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing ${missing[*]} with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

cd "$ROOT/tests/browser"
LOCK_STAMP="node_modules/.package-lock.json"
if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt "$LOCK_STAMP" ]; then
  echo "Installing axe-core with npm ci in tests/browser" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "browser test dependencies ready: $(/usr/bin/chromium --version 2>/dev/null | head -1)" >&2
