#!/usr/bin/env bash
# The reference stack against a REAL AWS account, end to end, timing each
# step: apply (creating the ECR repository), build and push the agent image
# (ARM64, the init template's agent), apply again with --verify (each
# runtime lists its gateway's tools as its own role), call one tool, invoke
# the agent with "100 + 12", destroy. Never run in CI: it creates billable
# resources (for a few minutes) and calls a Bedrock model.
#
# Usage: scripts/aws-smoke.sh        (AWS_PROFILE / AWS_REGION as usual)
# Needs: the AWS CLI (for the caller's identity and the ECR login), docker
# with buildx (linux/arm64), and Bedrock model access to the example's model
# in the region. Skips, exit 0, when no AWS credentials are configured.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

if ! command -v aws >/dev/null 2>&1; then
  echo "skipped: the AWS CLI is not installed (it reads the caller's identity and logs docker in to ECR)"
  exit 0
fi
if ! IDENTITY="$(aws sts get-caller-identity --output json 2>/dev/null)"; then
  echo "skipped: no AWS credentials configured (set AWS_PROFILE, or run 'aws configure' / 'aws sso login')"
  exit 0
fi
for tool in docker cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is needed" >&2; exit 1; }
done
REGION="${AWS_REGION:-$(aws configure get region || true)}"
[ -n "$REGION" ] || { echo "error: set AWS_REGION" >&2; exit 1; }
export AWS_REGION="$REGION"
unset AWS_ENDPOINT_URL || true

ACCOUNT="$(printf '%s' "$IDENTITY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Account"])')"
CALLER="$(printf '%s' "$IDENTITY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Arn"])')"
# A trust policy names a role, not its session.
PRINCIPAL="$(printf '%s' "$CALLER" | sed -E 's#^arn:([^:]+):sts::([0-9]+):assumed-role/([^/]+)/.*#arn:\1:iam::\2:role/\3#')"

cargo build --locked --release --quiet
BIN="$ROOT/target/release/agentform"
PROJECT="smoke-$(date +%s | tail -c 7)"
WORK="$(mktemp -d)"
cp -r examples/iam-gateway/. "$WORK/"
cp -r lambda "$WORK/lambda"
cp -r templates/agent "$WORK/agent"
sed -i.bak -e "s/^project: .*/project: $PROJECT/" -e 's#source: ../../lambda#source: lambda#' \
  -e '/source_outside_project/d' "$WORK/agentform.yaml"
printf '\nverify_principals: ["%s"]\n' "$PRINCIPAL" >> "$WORK/agentform.yaml"
cd "$WORK"
echo "account $ACCOUNT, region $REGION, project $PROJECT, as $CALLER (in $WORK)"

TIMES=()
step() {
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  echo; echo "== $name: $*"
  "$@"
  end=$(date +%s.%N)
  TIMES+=("$(printf '%-28s %6.1f s' "$name" "$(echo "$end - $start" | bc)")")
}
cleanup() {
  echo; echo "== destroy (cleanup)"
  "$BIN" destroy --auto-approve || echo "destroy failed: run '$BIN destroy' in $WORK"
}
trap cleanup EXIT

# The first apply creates everything but the runtime, whose image does not
# exist yet; it fails at that step by design, and the next apply continues.
step "apply (no image yet)" "$BIN" apply --auto-approve || true
REPO="$ACCOUNT.dkr.ecr.$REGION.amazonaws.com/$PROJECT/agent"
step "docker login" sh -c "aws ecr get-login-password | docker login --username AWS --password-stdin $ACCOUNT.dkr.ecr.$REGION.amazonaws.com"
step "build + push image" docker buildx build --platform linux/arm64 -t "$REPO:latest" --push agent
step "apply --verify" "$BIN" apply --auto-approve --verify
step "tools" "$BIN" tools
step "tools call add_numbers" "$BIN" tools call lambda-target___add_numbers --args '{"a": 100, "b": 12}'
step "invoke \"100 + 12\"" "$BIN" invoke agent --prompt "What is 100 + 12?"
trap - EXIT
step "destroy" "$BIN" destroy --auto-approve

echo; echo "== times"
printf '%s\n' "${TIMES[@]}"
