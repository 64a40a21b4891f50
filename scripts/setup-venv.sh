#!/usr/bin/env bash
# Creates .venv with the moto emulator, pytest and parliament (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import moto, pytest, parliament, mcp_proxy_for_aws" 2>/dev/null || [ tests/requirements.txt -nt .venv/.installed ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  touch .venv/.installed
fi
