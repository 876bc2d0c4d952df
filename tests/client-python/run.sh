#!/usr/bin/env bash
# Generates a Python client from the committed spec (openapi/openapi.json) with
# openapi-python-client, and runs smoke.py against a live server through it.
# Nothing generated is written into the repository (temp dir, installed into the venv).
# Usage: tests/client-python/run.sh
# Env: HITKEEP_BIN (default $HOME/.cache/hitkeep/target/release/hitkeep; built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
BIN=${HITKEEP_BIN:-$CARGO_TARGET_DIR/release/hitkeep}
if [ ! -x "$BIN" ]; then cargo build --release --locked --bin hitkeep; fi

VENV=$HOME/.cache/hitkeep/venv/client-python
REQ=tests/client-python/requirements.txt
if [ ! -x "$VENV/bin/openapi-python-client" ] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/requirements.txt"
fi

WORK=$(mktemp -d)
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Generate and install the client (ruff is not needed: formatting is skipped, with a warning).
(cd "$WORK" && "$VENV/bin/openapi-python-client" generate --path "$OLDPWD/openapi/openapi.json" \
  --output-path "$WORK/client" --meta setup > "$WORK/generate.log" 2>&1) \
  || { cat "$WORK/generate.log"; exit 1; }
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WORK/client"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=cp-$RANDOM$RANDOM
BASE=http://127.0.0.1:$PORT
"$BIN" site add shop.test --data-dir "$WORK/data" > /dev/null
"$BIN" serve --http "127.0.0.1:$PORT" --data-dir "$WORK/data" --api-token "$TOKEN" --log-level warn \
  > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 150); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] && break
  kill -0 "$SERVER" 2>/dev/null || { echo "server exited:"; cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] || { echo "server not ready"; cat "$WORK/server.log"; exit 1; }

rc=0
"$VENV/bin/python" tests/client-python/smoke.py "$BASE" "$TOKEN" || rc=$?
if [ $rc -ne 0 ]; then echo "--- server log"; cat "$WORK/server.log"; fi
exit $rc
