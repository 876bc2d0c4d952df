#!/usr/bin/env bash
# Crash test (by hand, not CI): kill -9 the server under ingest load, restart it on the same data
# directory, and compare acknowledged hits (202s counted by the load generator) with stored rows.
# Usage: bench/crash.sh [rounds=20]
# Env: CRASH_CONCURRENCY (default 4), CRASH_BATCH_INTERVAL_MS (server --batch-interval-ms, default 100),
# CRASH_QUEUE=nats (start a nats-server with JetStream and serve with --queue nats://: expect lost=0;
# nats-server from HITKEEP_NATS_SERVER or the venv .ci/run installs). With NATS every hit has a
# unique path and the check is by path, after the last round: every acknowledged path stored, none
# twice. (Counts alone cannot tell: a hit JetStream confirmed while the server died before its 202
# left is stored but not acknowledged, so a round may store more than it acknowledged.)
# Per round: start the server, wait for /readyz (the database opened and replayed its WAL), load
# for a random 1-4 s, kill -9 mid-load. "stored" per round is the total pageview count read back
# through the API after the next start; the final total is `hitkeep export | wc -l` after a
# SIGTERM shutdown. lost = acknowledged - stored: hits acknowledged with 202 while still in the
# in-memory queue or an unflushed batch (at most about batch-interval worth of traffic per crash).
# Exit 1 if stored > acknowledged (invented rows), the server does not come back, or rows are lost
# beyond CRASH_MAX_LOST_PER_ROUND in a round (default 105000 = default --queue-capacity 100000 +
# --batch-size 5000: everything the writer can hold unflushed). Expect far less: a few thousand at
# ~13k hits/s on 2 cores, i.e. the queue backlog plus the batch being written.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-20}
CONC=${CRASH_CONCURRENCY:-4}
INTERVAL=${CRASH_BATCH_INTERVAL_MS:-100}
MAX_LOST=${CRASH_MAX_LOST_PER_ROUND:-105000}
QUEUE=${CRASH_QUEUE:-memory}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
BIN=$CARGO_TARGET_DIR/release
if [ ! -x "$BIN/hitkeep" ] || [ ! -x "$BIN/examples/loadgen" ]; then
  cargo build --release --locked --bin hitkeep --example loadgen
fi
WORK=$(mktemp -d)
D=$WORK/data
HK=; LG=; NATS=
cleanup() {
  [ -n "$LG" ] && kill "$LG" 2>/dev/null || true
  [ -n "$NATS" ] && kill "$NATS" 2>/dev/null || true
  if [ -n "$HK" ]; then kill -9 "$HK" 2>/dev/null || true; wait "$HK" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
TOKEN=crash-$RANDOM$RANDOM
"$BIN/hitkeep" site add shop.test --data-dir "$D" > /dev/null
QUEUE_ARGS=()
if [ "$QUEUE" = nats ]; then
  NATS_BIN=${HITKEEP_NATS_SERVER:-$HOME/.cache/hitkeep/venv/nats/bin/nats-server}
  NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$NATS_BIN" -a 127.0.0.1 -p "$NPORT" -js -sd "$WORK/nats" > "$WORK/nats.log" 2>&1 &
  NATS=$!
  QUEUE_ARGS=(--queue "nats://127.0.0.1:$NPORT")
  MAX_LOST=${CRASH_MAX_LOST_PER_ROUND:-0}
  sleep 0.5
fi

start_server() {
  "$BIN/hitkeep" serve --http "127.0.0.1:$PORT" --data-dir "$D" --trusted-proxies 127.0.0.1 \
    --api-token "$TOKEN" --batch-interval-ms "$INTERVAL" --log-level warn "${QUEUE_ARGS[@]}" >> "$WORK/server.log" 2>&1 &
  HK=$!
  local t0; t0=$(date +%s.%N)
  for _ in $(seq 600); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ]; then
      READY_S=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$t0"); return 0
    fi
    kill -0 "$HK" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not become ready after a crash; log:"; tail -30 "$WORK/server.log"; exit 1
}
stored_via_api() {
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$URL/api/v2/query" \
    -d '{"site_id":"shop.test","date_range":"all","metrics":["pageviews"]}' |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["results"][0]["metrics"][0]))'
}

# With NATS the restarted writer stores the stream's backlog after /readyz: wait for it first.
wait_backlog() {
  [ "$QUEUE" = nats ] || return 0
  for _ in $(seq 300); do
    sleep 1
    P=$(curl -s "$URL/metrics" | awk '$1=="hitkeep_nats_consumer_pending" {print $2}')
    [ "$P" = 0 ] && { sleep 1; return 0; }
  done
}

ACK=0; PREV_STORED=0; FAIL=0
printf '%-5s %-8s %-7s %-12s %-12s %-8s %-9s\n' round load_s ready_s acknowledged stored lost cum_lost
start_server
for r in $(seq "$ROUNDS"); do
  LOAD_S=$(python3 -c 'import random; print(f"{random.uniform(1,4):.2f}")')
  # loadgen runs 1 s past the kill so it is mid-request when the server dies; its JSON counts 202s.
  UNIQUE=()
  [ "$QUEUE" = nats ] && UNIQUE=(--unique-paths "$WORK/acked-$r.txt" --run "r$r")
  "$BIN/examples/loadgen" --url "$URL" --concurrency "$CONC" --seconds "$(python3 -c "import math; print(math.ceil($LOAD_S)+1)")" \
    "${UNIQUE[@]}" > "$WORK/load.json" 2>/dev/null &
  LG=$!
  sleep "$LOAD_S"
  kill -9 "$HK"; wait "$HK" 2>/dev/null || true; HK=
  wait "$LG" || true; LG=
  A=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted"])' "$WORK/load.json")
  ACK=$((ACK + A))
  start_server                       # the database opens after the crash
  wait_backlog
  S=$(stored_via_api)
  ROUND_STORED=$((S - PREV_STORED)); PREV_STORED=$S
  LOST=$((A - ROUND_STORED))
  printf '%-5s %-8s %-7s %-12s %-12s %-8s %-9s\n' "$r" "$LOAD_S" "$READY_S" "$A" "$ROUND_STORED" "$LOST" "$((ACK - S))"
  if [ "$QUEUE" != nats ] && { [ "$LOST" -lt 0 ] || [ "$LOST" -gt "$MAX_LOST" ]; }; then FAIL=1; fi
done

kill -TERM "$HK"; wait "$HK" || { echo "server exited non-zero on SIGTERM"; FAIL=1; }; HK=
EXPORTED=$("$BIN/hitkeep" export --site shop.test --data-dir "$D" 2>/dev/null | wc -l)
echo "total: rounds=$ROUNDS acknowledged=$ACK stored(export)=$EXPORTED stored(api)=$PREV_STORED lost=$((ACK - EXPORTED))"
if [ "$QUEUE" = nats ]; then
  # By unique path: lost = acknowledged paths not stored, duplicated = paths stored twice.
  "$BIN/hitkeep" export --site shop.test --data-dir "$D" 2>/dev/null > "$WORK/export.ndjson"
  python3 - "$WORK" "$ROUNDS" <<'PY' || FAIL=1
import collections, json, sys
work, rounds = sys.argv[1], int(sys.argv[2])
stored = collections.Counter(json.loads(l)["pathname"] for l in open(f"{work}/export.ndjson"))
total_lost = total_dup = 0
print(f"{'round':<6}{'acknowledged':<14}{'stored':<8}{'lost':<6}{'duplicated':<10}")
for r in range(1, rounds + 1):
    acked = {l.strip() for l in open(f"{work}/acked-{r}.txt") if l.strip()}
    mine = {p: n for p, n in stored.items() if p.startswith(f"/u/r{r}-")}
    lost = len(acked - mine.keys())
    dup = sum(1 for n in mine.values() if n > 1)
    total_lost += lost
    total_dup += dup
    print(f"{r:<6}{len(acked):<14}{len(mine):<8}{lost:<6}{dup:<10}")
print(f"by unique path: lost={total_lost} duplicated={total_dup} (both must be 0)")
sys.exit(1 if total_lost or total_dup else 0)
PY
elif [ "$EXPORTED" -gt "$ACK" ] || [ "$EXPORTED" -ne "$PREV_STORED" ]; then FAIL=1; fi
if grep -qi panick "$WORK/server.log"; then echo "server log shows a panic:"; grep -i -A5 panick "$WORK/server.log" | head -20; FAIL=1; fi
[ "$FAIL" = 0 ] && echo "OK" || { echo "FAILED"; exit 1; }
