#!/usr/bin/env bash
# Ingest benchmark: hitkeep vs a bare poem 202 handler under the same loopback load, the rate at
# which hits reach DuckDB, and bytes per pageview after N realistic pageviews.
# Usage: bench/ingest.sh [seconds=20] [concurrency=32] [storage_pageviews=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-20}
CONC=${2:-32}
STORE_N=${3:-1000000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
make -s assets
cargo build --release --locked --bin hitkeep --example bare202 --example loadgen
BIN=$CARGO_TARGET_DIR/release
OUT=bench/results; mkdir -p "$OUT"
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no server at $1"; exit 1; }
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1==m {print $2}'; }

echo "== bare poem handler (ceiling)"
"$BIN/examples/bare202" 127.0.0.1:18181 > /dev/null & BARE=$!
wait_port http://127.0.0.1:18181/
"$BIN/examples/loadgen" --url http://127.0.0.1:18181 --concurrency "$CONC" --seconds "$SECONDS_RUN" | tee "$OUT/bare.json"
kill $BARE; wait $BARE 2>/dev/null || true

echo "== hitkeep /ingest"
"$BIN/hitkeep" site add shop.test --data-dir "$WORK/d1" > /dev/null
"$BIN/hitkeep" serve --http 127.0.0.1:18080 --data-dir "$WORK/d1" --trusted-proxies 127.0.0.1 --log-level warn > /dev/null & HK=$!
wait_port http://127.0.0.1:18080/healthz
# Queue depth over time: sampled every 0.5 s while the load runs.
( while kill -0 $HK 2>/dev/null; do echo "$(date +%s.%N),$(metric http://127.0.0.1:18080 hitkeep_queue_depth)"; sleep 0.5; done ) > "$OUT/queue-depth.csv" & SAMPLER=$!
"$BIN/examples/loadgen" --url http://127.0.0.1:18080 --concurrency "$CONC" --seconds "$SECONDS_RUN" | tee "$OUT/hitkeep.json"
kill $SAMPLER 2>/dev/null || true
python3 - "$OUT/queue-depth.csv" <<'PY'
import sys
rows = [l.strip().split(",") for l in open(sys.argv[1]) if "," in l and l.strip().split(",")[1]]
d = [float(r[1]) for r in rows]
print(f"queue depth over {len(d)} samples (0.5 s): mean {sum(d)/max(len(d),1):.0f}, max {max(d, default=0):.0f}, "
      f"p99 {sorted(d)[int(len(d)*0.99)-1] if d else 0:.0f} (capacity 100000); series in {sys.argv[1]}")
PY
sleep 1
echo "stored: $(metric http://127.0.0.1:18080 hitkeep_stored_events_total) accepted: $(metric http://127.0.0.1:18080 hitkeep_ingest_accepted_total) rss_kb: $(ps -o rss= -p $HK)"
kill -TERM $HK; wait $HK

NATS_BIN=${HITKEEP_NATS_SERVER:-$HOME/.cache/hitkeep/venv/nats/bin/nats-server}
if [ -x "$NATS_BIN" ]; then
  echo "== hitkeep /ingest --queue nats:// (nats-server with JetStream on the same cores)"
  "$NATS_BIN" -a 127.0.0.1 -p 18422 -js -sd "$WORK/nats" > /dev/null 2>&1 & NATS=$!
  # nats-server speaks no HTTP: wait until its port accepts a connection.
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/18422) 2>/dev/null && break; sleep 0.1; done
  "$BIN/hitkeep" site add shop.test --data-dir "$WORK/d3" > /dev/null
  "$BIN/hitkeep" serve --http 127.0.0.1:18083 --data-dir "$WORK/d3" --trusted-proxies 127.0.0.1 --log-level warn \
    --queue nats://127.0.0.1:18422 > /dev/null & HK=$!
  wait_port http://127.0.0.1:18083/healthz
  "$BIN/examples/loadgen" --url http://127.0.0.1:18083 --concurrency "$CONC" --seconds "$SECONDS_RUN" | tee "$OUT/hitkeep-nats.json"
  sleep 2
  echo "stored: $(metric http://127.0.0.1:18083 hitkeep_stored_events_total) published: $(metric http://127.0.0.1:18083 hitkeep_nats_published_total) rss_kb: $(ps -o rss= -p $HK)"
  kill -TERM $HK; wait $HK; kill $NATS; wait $NATS 2>/dev/null || true
  python3 - "$OUT/bare.json" "$OUT/hitkeep.json" "$OUT/hitkeep-nats.json" <<'PY'
import json, sys
bare, mem, nats = (json.load(open(p)) for p in sys.argv[1:])
rate = lambda r: r.get("rps") or r.get("requests_per_sec") or r.get("accepted_per_sec") or 0
print(f"ratio to the bare handler: memory {rate(mem)/max(rate(bare),1):.2f}, nats {rate(nats)/max(rate(bare),1):.2f}")
PY
else
  echo "== (no nats-server at $NATS_BIN: skipping the NATS queue; .ci/run installs it)"
fi

echo "== storage: $STORE_N pageviews through /ingest"
"$BIN/hitkeep" site add shop.test --data-dir "$WORK/d2" > /dev/null
"$BIN/hitkeep" serve --http 127.0.0.1:18082 --data-dir "$WORK/d2" --trusted-proxies 127.0.0.1 --log-level warn > /dev/null & HK=$!
wait_port http://127.0.0.1:18082/healthz
T0=$(date +%s.%N)
"$BIN/examples/loadgen" --url http://127.0.0.1:18082 --concurrency "$CONC" --requests "$STORE_N" | tee "$OUT/storage-load.json"
ACC=$(metric http://127.0.0.1:18082 hitkeep_ingest_accepted_total)
until [ "$(metric http://127.0.0.1:18082 hitkeep_stored_events_total)" = "$ACC" ]; do sleep 0.2; done
T1=$(date +%s.%N)
STORED=$(metric http://127.0.0.1:18082 hitkeep_stored_events_total)
PEAK_RSS=$(grep VmHWM /proc/$HK/status | awk '{print $2}')
kill -TERM $HK; wait $HK
BYTES=$(stat -c %s "$WORK/d2/hitkeep.db")
python3 - "$STORED" "$BYTES" "$T0" "$T1" "$PEAK_RSS" <<'PY' | tee "$OUT/storage.json"
import json, sys
stored, size, t0, t1, rss = int(float(sys.argv[1])), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(json.dumps({"stored": stored, "db_bytes": size, "bytes_per_pageview": round(size / stored, 1),
                  "persisted_per_sec": round(stored / (t1 - t0)), "peak_rss_mib": round(rss / 1024, 1)}))
PY
