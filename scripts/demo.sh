#!/usr/bin/env bash
# Runs the reference stack end to end against a local AWS emulator (moto),
# its agent deployed as a code bundle (requirements installed for Linux ARM64):
# validate, plan, apply, plan again (no changes), outputs, the gateway's
# tools listed and one called over SigV4-signed MCP (the launcher's gateway
# emulator), destroy.
# No AWS account needed. Usage: scripts/demo.sh [example-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLE="${1:-examples/iam-gateway}"
scripts/setup-venv.sh
cargo build --locked --quiet
BIN="$PWD/target/debug/agentform"

LOG="$(mktemp)"
exec 3< <(.venv/bin/python tests/support/moto_server.py --host 127.0.0.1 --port 0 2>"$LOG")
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
read -r READY PORT <&3
[ "$READY" = "READY" ] || { echo "moto did not start:"; cat "$LOG"; exit 1; }

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN || true
echo "moto emulator on $AWS_ENDPOINT_URL"

cd "$EXAMPLE"
run() { echo; echo "\$ agentform $*"; "$BIN" "$@"; }
run validate
run plan
run apply --auto-approve
set +e
run plan --detailed-exitcode; code=$?
set -e
echo "(plan --detailed-exitcode exited $code; 0 means no changes)"
[ "$code" = 0 ] || { echo "expected no changes after apply"; exit 1; }
run output --json
run tools
run tools call lambda-target___add_numbers --args '{"a": 100, "b": 12}'
run destroy --auto-approve
run destroy --auto-approve
echo; echo "Demo complete."
