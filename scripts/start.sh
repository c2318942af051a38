#!/usr/bin/env bash
# Set up, then start JupyterLab on the walkthrough notebook (mock customer).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="${CHAT_WIDGET_VENV:-.venv}"
ARGS=()
[ "$(id -u)" -eq 0 ] && ARGS+=(--allow-root)   # containers often run as root
exec "$VENV/bin/jupyter" lab notebooks/01_walkthrough.ipynb "${ARGS[@]}" "$@"
