#!/usr/bin/env bash
# Report query latency at N events over D days: each query through HTTP (/api/v2/query) and,
# as the floor, the same SQL run directly on the database in-process (bench/queries.json).
# Usage: bench/queries.sh [events=10000000] [days=90] [runs=15] [set=dashboard|all] [users=0]
#   set=all adds the queries off the dashboard's fast path and a funnel; users=N > 0 also loads N
#   dashboards at once (each with its queries in parallel). QUERY_SERVER_ARGS adds server flags
#   (e.g. "--query-cache-entries 0" to time without the result cache).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-10000000}
DAYS=${2:-90}
RUNS=${3:-15}
SET=${4:-dashboard}
USERS=${5:-0}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
make -s assets
cargo build --release --locked --bin hitkeep
BIN=$CARGO_TARGET_DIR/release/hitkeep
OUT=bench/results; mkdir -p "$OUT"
DATA=${BENCH_DATA:-$HOME/.cache/hitkeep/bench-$EVENTS-$DAYS}
if [ ! -f "$DATA/hitkeep.db" ]; then
  echo "== seeding $EVENTS events over $DAYS days into $DATA"
  /usr/bin/time -v "$BIN" seed --site bench.test --events "$EVENTS" --days "$DAYS" --data-dir "$DATA" 2> "$OUT/seed-$EVENTS.log" || { cat "$OUT/seed-$EVENTS.log"; exit 1; }
  tail -n 30 "$OUT/seed-$EVENTS.log" | grep -E "stored|Maximum resident|Elapsed" || true
fi
ls -l "$DATA/hitkeep.db"

echo "== floor: the engine's SQL run directly on the database"
"$BIN" bench-queries --data-dir "$DATA" --site bench.test --runs "$RUNS" $([ "$SET" = all ] && echo --all) | tee "$OUT/queries-sql-$EVENTS.txt"

echo "== through HTTP"
START=$(date +%s.%N)
# shellcheck disable=SC2086
"$BIN" serve --http 127.0.0.1:18090 --data-dir "$DATA" --api-token bench --log-level warn ${QUERY_SERVER_ARGS:-} > /dev/null & HK=$!
trap 'kill $HK 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:18090/readyz > /dev/null; do sleep 0.05; done
echo "start-up to ready: $(python3 -c "import time,sys; print(round(time.time()-float(sys.argv[1]),2))" "$START") s, idle RSS $(( $(ps -o rss= -p $HK) / 1024 )) MiB"
python3 bench/query_http.py http://127.0.0.1:18090 bench.test "$RUNS" "$SET" | tee "$OUT/queries-http-$EVENTS.txt"
if [ "$USERS" -gt 0 ]; then
  python3 bench/query_http.py http://127.0.0.1:18090 bench.test 5 concurrent "$USERS" | tee -a "$OUT/queries-http-$EVENTS.txt"
fi
echo "peak RSS $(( $(grep VmHWM /proc/$HK/status | awk '{print $2}') / 1024 )) MiB"
kill -TERM $HK; wait $HK || true
