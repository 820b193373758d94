#!/usr/bin/env bash
# Fresh machine: install everything, then run the main job on the embedded defaults:
# validate and summarise the bundled example dossiers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
echo "== jgz validate examples/*.xml"
# exit 1 = a message has an error: one bundled example (R041) carries a real defect
# (a lot number on a refused vaccination, TC03015), which the validator must report
status=0
.venv/bin/jgz validate --no-warnings examples/*.xml || status=$?
[ "$status" -le 1 ] || exit "$status"
echo "== jgz summary examples/*.xml"
.venv/bin/jgz summary examples/*.xml
echo "== two local gateways, one signed transfer"
scripts/demo.sh
