#!/usr/bin/env bash
# The NATS queue against the bare poem 202 handler (issue #15's benchmark), made robust to this
# kind of VM: the bare handler alone swings 1.8x between runs a minute apart, so one pair of runs
# says little. Each round runs the bare handler, then hitkeep --queue nats:// (a fresh nats-server
# with a JetStream file store and a fresh data directory), back to back under the same load; the
# script prints every round and the median of the per-round ratios, hits per stream message, and
# checks that every acknowledged hit was stored.
# Usage: bench/nats-ratio.sh [rounds=6] [seconds=8] [concurrency=32]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-6}; S=${2:-8}; C=${3:-32}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked --bin hitkeep --example bare202 --example loadgen
BIN=$CARGO_TARGET_DIR/release; HK_BIN=${HKB:-$BIN/hitkeep}
NATS_BIN=${HITKEEP_NATS_SERVER:-$HOME/.cache/hitkeep/venv/nats/bin/nats-server}
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no server at $1"; exit 1; }
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1==m {print $2}'; }
load() { "$BIN/examples/loadgen" --url "$1" --concurrency "$C" --seconds "$S"; }

for r in $(seq "$ROUNDS"); do
  "$BIN/examples/bare202" 127.0.0.1:18181 > /dev/null & BARE=$!
  wait_port http://127.0.0.1:18181/
  load http://127.0.0.1:18181 > "$WORK/bare-$r.json"
  kill $BARE; wait $BARE 2>/dev/null || true

  rm -rf "$WORK/nats" "$WORK/d"
  "$NATS_BIN" -a 127.0.0.1 -p 18422 -js -sd "$WORK/nats" > /dev/null 2>&1 & NATS=$!
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/18422) 2>/dev/null && break; sleep 0.1; done
  "$HK_BIN" site add shop.test --data-dir "$WORK/d" > /dev/null
  "$HK_BIN" serve --http 127.0.0.1:18083 --data-dir "$WORK/d" --trusted-proxies 127.0.0.1 --log-level warn \
    --queue nats://127.0.0.1:18422 > /dev/null & HK=$!
  wait_port http://127.0.0.1:18083/healthz
  load http://127.0.0.1:18083 > "$WORK/nats-$r.json"
  ACC=$(metric http://127.0.0.1:18083 hitkeep_ingest_accepted_total)
  for _ in $(seq 100); do [ "$(metric http://127.0.0.1:18083 hitkeep_stored_events_total)" = "$ACC" ] && break; sleep 0.2; done
  MSGS=$(metric http://127.0.0.1:18083 hitkeep_nats_messages_published_total)
  echo "{\"accepted\": $ACC, \"stored\": $(metric http://127.0.0.1:18083 hitkeep_stored_events_total)," \
    "\"messages\": ${MSGS:-0}}" > "$WORK/store-$r.json"
  kill -TERM $HK; wait $HK; kill $NATS; wait $NATS 2>/dev/null || true
done

python3 - "$WORK" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
ratios, lost = [], 0
print("| round | bare hits/s | NATS hits/s | ratio | NATS p50 / p99 | hits per message | stored / acknowledged |")
print("|---|---:|---:|---:|---|---:|---|")
for r in range(1, rounds + 1):
    bare, nats, st = (json.load(open(f"{work}/{k}-{r}.json")) for k in ("bare", "nats", "store"))
    ratio = nats["accepted_per_sec"] / bare["accepted_per_sec"]
    ratios.append(ratio)
    lost += st["accepted"] - st["stored"]
    per_message = f"{st['accepted'] / st['messages']:.1f}" if st["messages"] else "-"
    print(f"| {r} | {bare['accepted_per_sec']:,.0f} | {nats['accepted_per_sec']:,.0f} | {ratio:.2f} | "
          f"{nats['p50_ms']:.1f} / {nats['p99_ms']:.1f} ms | {per_message} | "
          f"{st['stored']:,.0f} / {st['accepted']:,.0f} |")
print(f"median ratio {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
      f"acknowledged but not stored: {lost:.0f}")
PY
