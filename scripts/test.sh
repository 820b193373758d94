#!/usr/bin/env bash
# Run the test suite. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/ruff check --quiet .  # the lint rules of pyproject.toml: likely bugs, not style
JGZ_TEST_POSTGRES_URL="$(scripts/postgres.sh)"; export JGZ_TEST_POSTGRES_URL  # store + transfer tests run on PostgreSQL too
exec .venv/bin/pytest "$@"
