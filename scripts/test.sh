#!/usr/bin/env bash
# Runs the linter, then the test suite. The tests start their own Redis, worker, media server and Streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
