# Shared by scripts/demo and scripts/test: a virtualenv in .venv with the locked
# dependencies installed (re-installed only when requirements-dev.lock changes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
STAMP=.venv/.installed-lock
WANT="$(cat requirements-dev.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "Installing locked dependencies into .venv ..." >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -r requirements-dev.lock >&2
  .venv/bin/python -m pip install -q --no-deps -e . >&2
  echo "$WANT" > "$STAMP"
fi
