#!/usr/bin/env bash
# Soak test (by hand, not CI): steady ingest load for a while, RSS sampled every 10 s.
# Usage: bench/soak.sh [minutes=10] [rate]
#   rate: hits per second (each second: `loadgen --requests RATE`, then sleep the rest of it).
#   Without a rate: continuous load from 2 connections (about half of what the 2-core test machine
#   can take), in 30 s loadgen runs.
# Env: SOAK_CONCURRENCY (default 2), SOAK_OUT (CSV path, default bench/results/soak-rss.csv),
#      SOAK_SERVER_ARGS (extra `hitkeep serve` flags).
# Prints start/end/max RSS, the RSS slope over the second half (least squares, MiB/min),
# accepted vs stored (/metrics) and the non-202 answers. Exit 1 if stored != accepted.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
RATE=${2:-}
CONC=${SOAK_CONCURRENCY:-2}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
BIN=$CARGO_TARGET_DIR/release
if [ ! -x "$BIN/hitkeep" ] || [ ! -x "$BIN/examples/loadgen" ]; then
  cargo build --release --locked --bin hitkeep --example loadgen
fi
OUT=${SOAK_OUT:-bench/results/soak-rss.csv}; mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d)
HK=; SAMPLER=
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  if [ -n "$HK" ]; then kill -TERM "$HK" 2>/dev/null || true; wait "$HK" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1==m {printf "%d", $2}'; }
"$BIN/hitkeep" site add shop.test --data-dir "$WORK/data" > /dev/null
# SOAK_SERVER_ARGS: extra serve flags, e.g. "--duckdb-memory-limit 256MB".
# shellcheck disable=SC2086
"$BIN/hitkeep" serve --http "127.0.0.1:$PORT" --data-dir "$WORK/data" --trusted-proxies 127.0.0.1 \
  --log-level warn ${SOAK_SERVER_ARGS:-} > "$WORK/server.log" 2>&1 &
HK=$!
for _ in $(seq 150); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] && break; sleep 0.1; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] || { echo "server not ready"; cat "$WORK/server.log"; exit 1; }

T0=$(date +%s)
echo "elapsed_s,rss_kib" > "$OUT"
( while kill -0 "$HK" 2>/dev/null; do
    echo "$(( $(date +%s) - T0 )),$(ps -o rss= -p "$HK" | tr -d ' ')" >> "$OUT"
    sleep 10
  done ) &
SAMPLER=$!

END=$(( T0 + MINUTES * 60 ))
echo "soak: ${MINUTES} min against $URL, $( [ -n "$RATE" ] && echo "$RATE hits/s" || echo "continuous, $CONC connections"); RSS samples -> $OUT"
: > "$WORK/load.jsonl"
if [ -n "$RATE" ]; then
  while [ "$(date +%s)" -lt "$END" ]; do
    tick=$(date +%s.%N)
    "$BIN/examples/loadgen" --url "$URL" --concurrency "$CONC" --requests "$RATE" >> "$WORK/load.jsonl"
    python3 -c "import time,sys; d=1-(time.time()-float(sys.argv[1])); d>0 and time.sleep(d)" "$tick"
  done
else
  while [ "$(date +%s)" -lt "$END" ]; do
    left=$(( END - $(date +%s) )); chunk=$(( left < 30 ? left : 30 )); [ "$chunk" -lt 1 ] && break
    "$BIN/examples/loadgen" --url "$URL" --concurrency "$CONC" --seconds "$chunk" >> "$WORK/load.jsonl"
  done
fi

# Let the writer catch up (at most 30 s), then take a last sample.
ACC=$(metric hitkeep_ingest_accepted_total)
for _ in $(seq 300); do [ "$(metric hitkeep_stored_events_total)" = "$ACC" ] && break; sleep 0.1; done
STORED=$(metric hitkeep_stored_events_total)
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=
echo "$(( $(date +%s) - T0 )),$(ps -o rss= -p "$HK" | tr -d ' ')" >> "$OUT"
if grep -qi panick "$WORK/server.log"; then echo "server log shows a panic:"; grep -i -A5 panick "$WORK/server.log" | head -20; fi

python3 - "$OUT" "$WORK/load.jsonl" "$ACC" "$STORED" <<'PY'
import csv, json, sys
rows = [(float(r["elapsed_s"]), int(r["rss_kib"])) for r in csv.DictReader(open(sys.argv[1])) if r["rss_kib"]]
loads = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
acc, stored = int(sys.argv[3] or 0), int(sys.argv[4] or 0)
mib = lambda k: k / 1024
half = [r for r in rows if r[0] >= rows[-1][0] / 2]
slope = 0.0
if len(half) >= 2:
    xs = [t / 60 for t, _ in half]; ys = [mib(k) for _, k in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0
gen_acc = sum(l["accepted"] for l in loads)
non202 = sum(l["non_202"] for l in loads); errors = sum(l["errors"] for l in loads)
secs = sum(l["seconds"] for l in loads)
print(json.dumps({
    "samples": len(rows),
    "rss_start_mib": round(mib(rows[0][1]), 1), "rss_end_mib": round(mib(rows[-1][1]), 1),
    "rss_max_mib": round(mib(max(k for _, k in rows)), 1),
    "rss_slope_second_half_mib_per_min": round(slope, 3),
    "loadgen_accepted": gen_acc, "loadgen_non_202": non202, "loadgen_errors": errors,
    "load_rate_per_sec": round(gen_acc / secs) if secs else 0,
    "metrics_accepted": acc, "metrics_stored": stored, "not_stored": acc - stored,
}, indent=1))
sys.exit(0 if acc == stored and non202 == 0 and errors == 0 else 1)
PY
