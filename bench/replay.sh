#!/usr/bin/env bash
# WAL replay after a crash, for a checkpoint threshold (in MB): ingest under load until the WAL
# holds 90 % of the threshold (a checkpoint empties it; the worst case is just before one),
# kill -9, then time the restart until /readyz answers 200 (the database opened and replayed its
# WAL). Prints the WAL's size at the kill, the replay time, and the server's peak RSS before it.
# Usage: bench/replay.sh [threshold=256MB] [seconds=120: give up]   (BIN=... to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-256MB}; S=${2:-120}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
BIN=${BIN:-$CARGO_TARGET_DIR/release/hitkeep}
LOADGEN=$CARGO_TARGET_DIR/release/examples/loadgen
[ -x "$LOADGEN" ] || cargo build --release --locked --example loadgen
W=$(mktemp -d); trap 'kill $(jobs -p) $HK 2>/dev/null || true; rm -rf "$W"' EXIT; HK=
PORT=${PORT:-18290}
"$BIN" site add shop.test --data-dir "$W" >/dev/null
serve() {
  "$BIN" serve --http 127.0.0.1:$PORT --data-dir "$W" --trusted-proxies 127.0.0.1 --log-level error \
    --duckdb-checkpoint-threshold "$T" >/dev/null 2>&1 &
  echo $!
}
ready() { for _ in $(seq 1200); do [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/readyz)" = 200 ] && return 0; sleep 0.05; done; return 1; }
HK=$(serve); ready
"$LOADGEN" --url http://127.0.0.1:$PORT --concurrency 16 --seconds "$S" >"$W/load.json" &
LG=$!
peak=0; size=0; goal=$(( ${T%MB} * 1048576 * 9 / 10 ))
while kill -0 $LG 2>/dev/null && [ "$size" -lt "$goal" ]; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$HK/status); [ "$rss" -gt "$peak" ] && peak=$rss
  size=$(stat -c %s "$W/hitkeep.db.wal" 2>/dev/null || echo 0)
  sleep 0.1
done
kill -9 $HK; wait $HK 2>/dev/null || true
kill $LG 2>/dev/null; wait $LG 2>/dev/null || true
size=$(stat -c %s "$W/hitkeep.db.wal" 2>/dev/null || echo 0)
start=$(date +%s.%N)
HK=$(serve); ready
took=$(echo "$(date +%s.%N) - $start" | bc)
echo "threshold $T: WAL at the kill $((size / 1048576)) MiB, restart to ready ${took} s, peak RSS before the kill $((peak / 1024)) MiB"
kill $HK
