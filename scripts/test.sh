#!/usr/bin/env bash
# Run the test suite. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/ruff check --quiet .  # the lint rules of pyproject.toml: likely bugs, not style
# store + transfer tests run on PostgreSQL too: a throwaway server, stopped again afterwards
# when this run started it (one that was already running is left as it was)
if ! scripts/postgres.sh running; then trap 'scripts/postgres.sh stop' EXIT; fi
JGZ_TEST_POSTGRES_URL="$(scripts/postgres.sh)"; export JGZ_TEST_POSTGRES_URL
.venv/bin/pytest "$@"
