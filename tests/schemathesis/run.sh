#!/usr/bin/env bash
# Property-based API tests: Schemathesis fuzzes every operation of the live server's own
# OpenAPI spec (/api/openapi.json) and checks the answers.
# Usage: tests/schemathesis/run.sh [max-examples=25]
# Env: HITKEEP_BIN (default $HOME/.cache/hitkeep/target/release/hitkeep; built if missing),
#      ST_MAX_TIME (seconds, default 90; fuzzing and stateful phases run until it is spent), ST_SEED (random seed, default 1 for reproducible CI runs),
#      ST_CHECKS (default not_a_server_error,response_schema_conformance,status_code_conformance).
# Reports (junit, ndjson) land in $ST_REPORT_DIR (default: a temp dir, removed) if set.
set -euo pipefail
cd "$(dirname "$0")/../.."
MAX_EXAMPLES=${1:-25}
ST_MAX_TIME=${ST_MAX_TIME:-90}
ST_SEED=${ST_SEED:-1}
ST_CHECKS=${ST_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance}
source tests/lib/live-server.sh
VENV=$HOME/.cache/hitkeep/venv/schemathesis
hk_venv "$VENV" tests/schemathesis/requirements.txt bin/schemathesis
TOKEN=st-$RANDOM$RANDOM
"$BIN" site add shop.test --data-dir "$WORK/data" > /dev/null
hk_serve --api-token "$TOKEN"

REPORT_DIR=${ST_REPORT_DIR:-$WORK/report}
rc=0
# The spec's servers url is "/api": --url must include it (paths in the spec are relative to it).
# The "coverage" phase is left out: in schemathesis 4.32.5 it crashes inside Hypothesis's lambda
# source introspection ("AST constructor recursion depth mismatch"), a tool bug unrelated to the
# server; set ST_PHASES to include it once a release fixes that.
"$VENV/bin/schemathesis" --config-file tests/schemathesis/schemathesis.toml run "$BASE/api/openapi.json" \
  --url "$BASE/api" \
  -H "Authorization: Bearer $TOKEN" \
  --checks "$ST_CHECKS" \
  --max-examples "$MAX_EXAMPLES" \
  --phases "${ST_PHASES:-examples,fuzzing,stateful}" \
  --max-time "$ST_MAX_TIME" \
  --seed "$ST_SEED" \
  --workers 2 \
  --request-timeout 10 \
  --generation-database none \
  --suppress-health-check too_slow \
  --report junit,ndjson --report-dir "$REPORT_DIR" \
  --no-color || rc=$?

if ! kill -0 "$SERVER" 2>/dev/null; then echo "server died during the run:"; cat "$WORK/server.log"; rc=1; fi
if grep -qiE 'panicked|panic' "$WORK/server.log"; then echo "server log shows a panic:"; grep -iE -A5 'panick' "$WORK/server.log" | head -40; rc=1; fi
exit $rc
