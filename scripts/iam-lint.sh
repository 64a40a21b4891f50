#!/usr/bin/env bash
# Lints every IAM document agentform derives, for the reference stack
# (examples/iam-gateway) and for a spec using every feature
# (tests/specs/every-feature), with parliament (pinned in
# tests/requirements.txt, driven by scripts/iam_lint.py), community auditors
# included. Offline: a unit test writes the documents as they are after apply
# (src/plan/tests/iam.rs).
# Fails on any finding that scripts/parliament.yaml does not suppress (each
# suppression there says why; docs/decisions.md too).
# Usage: scripts/iam-lint.sh [DIR]   (DIR: lint the documents in DIR instead)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
if [ $# -gt 0 ]; then
  OUT="$1"
else
  OUT="$(mktemp -d)"
  trap 'rm -rf "$OUT"' EXIT
  if ! log="$(AGENTFORM_IAM_DUMP="$OUT" cargo test --locked --quiet --lib \
      plan::tests::iam::dump_derived_iam -- --exact 2>&1)"; then
    echo "$log"
    exit 1
  fi
fi
count=0
for f in "$OUT"/*/*/*.json; do count=$((count + 1)); done
[ "$count" -gt 0 ] || { echo "no IAM documents in $OUT"; exit 1; }
echo "== parliament $(.venv/bin/parliament --version | cut -d' ' -f2) on $count IAM documents =="
.venv/bin/python scripts/iam_lint.py scripts/parliament.yaml "$OUT"/*/*/*.json
