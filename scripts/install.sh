#!/usr/bin/env bash
# Install jgz-gateway and its test tools into .venv (idempotent, fresh-machine safe).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet uv
fi
if [ ! -x .venv/bin/python ]; then
    uv venv .venv --python python3.11 --quiet
fi
VIRTUAL_ENV=.venv uv pip install --quiet -e '.[test]'
