# Sourced by run.sh and test.sh: create .venv if needed and install factsep into it.
# Usage: source scripts/bootstrap.sh [EXTRA]   (EXTRA: "dev" adds pytest and ruff)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
VENV="${FACTSEP_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
spec="."
[ "${1:-}" = "dev" ] && spec=".[dev]"
echo "installing factsep and its pinned dependencies into $VENV" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
