#!/usr/bin/env bash
# The MCP server (/mcp) against the official Python MCP client (PyPI `mcp`, pinned in
# requirements.txt, installed in a venv under $HOME/.cache/hitkeep/venv/mcp-python): a session
# initializes, lists tools, calls query and top_pages (answers equal to /api/v2/query), is
# refused without a token (401), and a token for site A cannot read site B.
# Usage: tests/mcp-python/run.sh
# Env: HITKEEP_BIN (default $HOME/.cache/hitkeep/target/release/hitkeep; built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/live-server.sh
VENV=$HOME/.cache/hitkeep/venv/mcp-python
hk_venv "$VENV" tests/mcp-python/requirements.txt bin/python

OPERATOR=mcp-$RANDOM$RANDOM
"$BIN" site add shop.test --data-dir "$WORK/data" > /dev/null
"$BIN" site add blog.test --data-dir "$WORK/data" > /dev/null
HITKEEP_PASSWORD='correct horse battery' "$BIN" user add --email ann@shop.test --site shop.test=viewer \
  --site blog.test=viewer --data-dir "$WORK/data" > /dev/null
# A read token limited to shop.test: the user also reads blog.test, the token must not.
TOKEN=$("$BIN" token create --email ann@shop.test --name assistant --site shop.test --scope read \
  --data-dir "$WORK/data" 2> /dev/null)
hk_serve --api-token "$OPERATOR" --trusted-proxies 127.0.0.1

rc=0
"$VENV/bin/python" tests/mcp-python/session.py "$BASE" "$TOKEN" "$OPERATOR" || rc=$?
if [ $rc -ne 0 ]; then echo "--- server log"; cat "$WORK/server.log"; fi
exit $rc
