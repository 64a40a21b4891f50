#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests (against a local moto
# server the tests start themselves), the Lambda function's Python tests
# and those of the data-plane emulator in tests/support.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
echo "== Rust tests (cargo test) =="
# Most integration tests wait on the emulator, not the CPU: run more of them
# at once than there are cores (libtest's default).
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}"
cargo test --locked --all-targets
echo "== Python tests (pytest: the Lambda function, the test emulators) =="
.venv/bin/python -m pytest -q lambda tests/support
