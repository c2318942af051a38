#!/usr/bin/env bash
# Set up everything (Debian chromium, postgresql and redis-server, venv, npm) and run every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# the PostgreSQL store's tests start throw-away clusters with Debian's server binaries
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
# the scale-out tests (issue 18) start throw-away Redis servers with Debian's redis-server
if [ ! -x /usr/bin/redis-server ] && ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
bash scripts/setup.sh
VENV="${CHAT_WIDGET_VENV:-.venv}"
PY="$VENV/bin/python"
export PYTHONHASHSEED=0
echo "== ruff";   "$PY" -m ruff check src tests bench scripts notebooks/conftest.py
"$PY" -m ruff format --check src tests bench scripts notebooks/conftest.py
echo "== mypy";   "$PY" -m mypy
echo "== tsc";    npx tsc --noEmit
echo "== vitest"; npx vitest run
echo "== pytest"; "$PY" -m pytest -q -p no:cacheprovider tests --ignore=tests/browser "$@"
# playwright's sync API keeps an event loop on the main thread while the browser is open,
# so the real-browser journeys run in a process of their own, after the asyncio tests
echo "== pytest (real browser)"; "$PY" -m pytest -q -p no:cacheprovider tests/browser "$@"
echo "== nbval";  "$PY" -m pytest -q -p no:cacheprovider --nbval-lax notebooks
echo "== bench smoke"; bash bench/smoke.sh "$PY"
# what users install: the built wheel in a fresh venv (an editable install hides missing files)
echo "== wheel smoke"; bash scripts/wheel_smoke.sh "$PY"
