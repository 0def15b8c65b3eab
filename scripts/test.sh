#!/usr/bin/env bash
# The test suite on a fresh machine: set up with the dev tools, lint, run every test
# (the slow ones, which train the real default model, included).
source "$(dirname "$0")/bootstrap.sh" dev
"$VENV/bin/ruff" check .
"$VENV/bin/pytest" "$@"
