#!/usr/bin/env bash
# Resident memory of the server during a full pass over a large database: the first roll of
# every closed day into day_totals / day_dims (what an upgrade to migration 22 or a fresh `seed`
# leaves to do), then USERS concurrent dashboards once it is done.
# Usage: bench/roll-memory.sh DATA_DIR [users=8] [-- extra serve args, e.g. --duckdb-memory-limit 1GB]
# Prints the roll's wall time (from the job's "folded visits" line), the server's peak RSS
# (VmHWM) at the end of the roll and after the dashboards, and the dashboards' p50 / p95.
# BIN=... to measure another build; the data directory is used in place (copy it first).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1; shift
USERS=${1:-8}; [ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
BIN=${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}/release/hitkeep}
PORT=${PORT:-18391}
LOG=$(mktemp)
"$BIN" serve --data-dir "$DATA" --http "127.0.0.1:$PORT" --api-token bench \
  --log-level hitkeep=debug "$@" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
started=$(date +%s.%N)
hwm() { awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status; }
until grep -q "folded visits" "$LOG"; do
  kill -0 $PID 2>/dev/null || { cat "$LOG"; echo "server exited"; exit 1; }
  sleep 1
done
echo "first roll: $(grep -m1 "folded visits" "$LOG" | sed 's/\x1b\[[0-9;]*m//g' | grep -o 'days=[0-9]* ms=[0-9]*'), \
$(python3 -c "import time; print(f'{time.time() - $started:.1f}')") s after start; peak RSS $(hwm) MiB"
python3 bench/query_http.py "http://127.0.0.1:$PORT" bench.test 3 concurrent "$USERS"
echo "peak RSS after the dashboards: $(hwm) MiB (now $(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$PID/status) MiB)"
