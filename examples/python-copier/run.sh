#!/usr/bin/env bash
# Runs one of the Python (confluent-kafka) copiers: examples/python-copier/run.sh transactional|at-least-once
# (from any directory; build first with `node scripts/build-examples.mjs python-copier`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  transactional) script=transactional_copier.py ;;
  at-least-once) script=at_least_once_copier.py ;;
  *) echo "usage: $0 transactional|at-least-once" >&2; exit 64 ;;
esac
if [ ! -x "$here/.venv/bin/python" ]; then
  echo "$here is not built: run node scripts/build-examples.mjs python-copier" >&2
  exit 3
fi
exec "$here/.venv/bin/python" -u "$here/$script"
