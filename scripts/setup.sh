#!/usr/bin/env bash
# Set up everything a fresh machine needs: a virtual environment with the package
# (editable, with its test and JupyterLab extras), the npm packages, and the built widget.
# Usage: scripts/setup.sh            (sourced by start.sh and test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CHAT_WIDGET_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
npm ci --no-audit --no-fund
npm run build
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
