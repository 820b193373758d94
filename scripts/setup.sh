#!/usr/bin/env bash
# Fresh machine: install everything, then run the main job on the embedded defaults:
# validate and summarise the bundled example dossiers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
echo "== jgz validate examples/*.xml"
.venv/bin/jgz validate --no-warnings examples/*.xml
echo "== jgz summary examples/*.xml"
.venv/bin/jgz summary examples/*.xml
echo "== two local gateways, one signed transfer"
scripts/demo.sh
