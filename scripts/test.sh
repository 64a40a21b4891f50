#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests (against a local moto
# server the tests start themselves) and the Lambda function's Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
echo "== Rust tests (cargo test) =="
cargo test --locked --all-targets
echo "== Lambda tests (pytest) =="
.venv/bin/python -m pytest -q lambda
