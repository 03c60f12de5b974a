#!/usr/bin/env bash
# Run a command with PostgreSQL and Redis reachable and their URLs in the environment.
# Local instances this run had to start under var/ are stopped again when the command ends
# (including on Ctrl-C); services that were already running are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
var_dir=${GOVCMS_VAR_DIR:-var}
"$python" scripts/ensure_services.py
trap '"$python" scripts/stop_services.py' EXIT
set -a
# shellcheck disable=SC1091
. "$var_dir/services.env"
set +a
"$@"
