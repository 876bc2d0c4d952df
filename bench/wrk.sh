#!/usr/bin/env bash
# Ingest under wrk (an external load generator in C, lighter than examples/loadgen): the bare poem
# 202 handler and hitkeep's POST /ingest with the same realistic pageviews (bench/wrk-pageviews.lua),
# one after the other; prints both and the ratio, and checks every 202 was stored.
# Also prints the CPU each spent per request (server process, and hitkeep's writer thread) from
# /proc: the ratio says how fast, the microseconds say what each request costs.
# Usage: bench/wrk.sh [seconds=20] [connections=32] [threads=1]   (needs wrk: apt-get install wrk)
# HK_BIN=/path/to/hitkeep compares another build of hitkeep against the same bare handler;
# HK_ARGS="--duckdb-threads 1" passes more options to `hitkeep serve` (settings side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONN=${2:-32}
THREADS=${3:-1}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
cargo build --release --locked --bin hitkeep --example bare202
BIN=$CARGO_TARGET_DIR/release
HK=${HK_BIN:-$BIN/hitkeep}
TCK=$(getconf CLK_TCK)
OUT=bench/results; mkdir -p "$OUT"
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no server at $1"; exit 1; }
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1==m {print $2}'; }
run_wrk() { wrk -t"$THREADS" -c"$CONN" -d"${SECS}s" --latency -s bench/wrk-pageviews.lua "$1" | tee "$2"; }
# CPU ticks (user + system) of a process, or of its thread named $2.
ticks() {
  local stat=/proc/$1/stat t
  if [ -n "${2:-}" ]; then
    for t in /proc/"$1"/task/*; do [ "$(cat "$t/comm")" = "$2" ] && stat=$t/stat; done
  fi
  awk '{print $14 + $15}' "$stat"
}
# Microseconds of CPU per request: ticks spent over the run, requests from wrk's report.
per_request() {
  python3 - "$1" "$2" "$TCK" <<'PY'
import re, sys
reqs = int(re.search(r"(\d+) requests in", open(sys.argv[2]).read()).group(1))
print(f"{float(sys.argv[1]) / int(sys.argv[3]) / reqs * 1e6:.1f} us")
PY
}

echo "== bare poem handler (ceiling)"
"$BIN/examples/bare202" 127.0.0.1:18181 > /dev/null & BARE=$!
wait_port http://127.0.0.1:18181/
T0=$(ticks $BARE)
run_wrk http://127.0.0.1:18181 "$OUT/wrk-bare.txt"
echo "bare server CPU per request: $(per_request $(($(ticks $BARE) - T0)) "$OUT/wrk-bare.txt")"
kill $BARE; wait $BARE 2>/dev/null || true

echo "== hitkeep /ingest"
"$HK" site add shop.test --data-dir "$WORK/d" > /dev/null
"$HK" serve --http 127.0.0.1:18080 --data-dir "$WORK/d" --trusted-proxies 127.0.0.1 --log-level warn ${HK_ARGS:-} > /dev/null & HKP=$!
wait_port http://127.0.0.1:18080/healthz
T0=$(ticks $HKP); W0=$(ticks $HKP hitkeep-writer)
run_wrk http://127.0.0.1:18080 "$OUT/wrk-hitkeep.txt"
sleep 1
ACC=$(metric http://127.0.0.1:18080 hitkeep_ingest_accepted_total)
for _ in $(seq 50); do [ "$(metric http://127.0.0.1:18080 hitkeep_stored_events_total)" = "$ACC" ] && break; sleep 0.2; done
echo "accepted: $ACC stored: $(metric http://127.0.0.1:18080 hitkeep_stored_events_total)"
# Counted once the writer has stored every hit, so its whole cost is in.
echo "hitkeep server CPU per request: $(per_request $(($(ticks $HKP) - T0)) "$OUT/wrk-hitkeep.txt")," \
  "of which the writer thread $(per_request $(($(ticks $HKP hitkeep-writer) - W0)) "$OUT/wrk-hitkeep.txt")"
kill -TERM $HKP; wait $HKP
python3 - "$OUT/wrk-bare.txt" "$OUT/wrk-hitkeep.txt" <<'PY'
import re, sys
rate = lambda p: float(re.search(r"Requests/sec:\s+([\d.]+)", open(p).read()).group(1))
bare, hk = rate(sys.argv[1]), rate(sys.argv[2])
print(f"wrk: bare {bare:,.0f} req/s, hitkeep {hk:,.0f} req/s, ratio {hk / bare:.2f}")
PY
