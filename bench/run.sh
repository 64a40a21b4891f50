#!/usr/bin/env bash
# The scale benchmark in one command: builds agentform (unless AGENTFORM_BIN
# names a binary), makes sure the venv with moto exists, and runs
# bench/scale.py, which prints a Markdown table and writes bench/results.md.
#
#   bench/run.sh                               # reference, ~20, ~100, ~300 resources; 800 validate/plan
#   bench/run.sh --sizes s20,s100 --no-800     # a subset
#   bench/run.sh --latency-ms 50 --delay 1     # other latency / moto CREATING delay
#   bench/run.sh --timeout 120 --no-enforce    # per-command timeout; proxy records only
#   AGENTFORM_BIN=/path/to/agentform bench/run.sh
#
# All options: bench/run.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${AGENTFORM_BIN:-}" ]; then
  cargo build --release --locked --quiet
  export AGENTFORM_BIN="$PWD/target/release/agentform"
fi
if ! .venv/bin/python -c "import moto, boto3" 2>/dev/null; then
  scripts/setup-venv.sh
fi
PYTHONDONTWRITEBYTECODE=1 exec .venv/bin/python bench/scale.py "$@"
