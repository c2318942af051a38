#!/usr/bin/env bash
# Small smoke runs of the benchmarks for CI; full runs are by hand (see bench/README.md).
set -euo pipefail
PY="${1:-python3}"
cd "$(dirname "$0")/.."
# every bench/*.py, e.g. class_report.py: the class report over 60 stored conversations (issue 15)
for b in bench/*.py; do
  [ -e "$b" ] || continue
  echo "-- $b --smoke"
  "$PY" "$b" --smoke
done
