# Sourced by the other scripts: make sure .venv exists and holds this checkout's locked
# dependencies, reinstalling only when pyproject.toml or the lock changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating $VENV with $("$PYTHON" --version)" >&2
  "$PYTHON" -m venv "$VENV"
fi
STAMP="$VENV/.installed-$(cat pyproject.toml requirements/dev.lock | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  echo "Installing tts-service and its locked dependencies into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  # The exact versions of requirements/dev.lock, checked against their hashes; then the
  # project itself, editable, adding nothing (scripts/lock.sh writes the lock).
  "$VENV/bin/python" -m pip install --quiet --require-hashes -r requirements/dev.lock >&2
  "$VENV/bin/python" -m pip install --quiet --no-deps -e . >&2
  rm -f "$VENV"/.installed-*
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
