#!/usr/bin/env bash
# Run the test suite. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/pytest "$@"
