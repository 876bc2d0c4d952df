#!/usr/bin/env bash
# Generates a Python client from the committed spec (openapi/openapi.json) with
# openapi-python-client, and runs smoke.py against a live server through it.
# Nothing generated is written into the repository (temp dir, installed into the venv).
# Usage: tests/client-python/run.sh
# Env: HITKEEP_BIN (default $HOME/.cache/hitkeep/target/release/hitkeep; built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/live-server.sh
VENV=$HOME/.cache/hitkeep/venv/client-python
hk_venv "$VENV" tests/client-python/requirements.txt bin/openapi-python-client

# Generate and install the client (ruff is not needed: formatting is skipped, with a warning).
(cd "$WORK" && "$VENV/bin/openapi-python-client" generate --path "$OLDPWD/openapi/openapi.json" \
  --output-path "$WORK/client" --meta setup > "$WORK/generate.log" 2>&1) \
  || { cat "$WORK/generate.log"; exit 1; }
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WORK/client"

TOKEN=cp-$RANDOM$RANDOM
"$BIN" site add shop.test --data-dir "$WORK/data" > /dev/null
hk_serve --api-token "$TOKEN"

rc=0
"$VENV/bin/python" tests/client-python/smoke.py "$BASE" "$TOKEN" || rc=$?
if [ $rc -ne 0 ]; then echo "--- server log"; cat "$WORK/server.log"; fi
exit $rc
