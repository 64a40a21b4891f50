#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests (against a local moto
# server the tests start themselves) and the Lambda function's Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
echo "== Rust tests (cargo test) =="
# Most integration tests wait on the emulator, not the CPU: run more of them
# at once than there are cores (libtest's default).
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}"
cargo test --locked --all-targets
echo "== Lambda tests (pytest) =="
.venv/bin/python -m pytest -q lambda
