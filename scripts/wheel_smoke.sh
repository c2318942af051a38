#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv (as a user would, with its dependencies)
# and run scripts/wheel_smoke.py from there, outside the source tree.
# Usage: scripts/wheel_smoke.sh [PYTHON]   (the project's venv python builds the wheel)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" .
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet "$WORK"/dist/chat_widget-*.whl
cp scripts/wheel_smoke.py "$WORK/"
(cd "$WORK" && "$WORK/venv/bin/python" wheel_smoke.py)
