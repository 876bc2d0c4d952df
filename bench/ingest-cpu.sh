#!/usr/bin/env bash
# CPU time per acknowledged hit, per process (server, nats-server, load generator): the bare poem
# handler, hitkeep with the memory queue, hitkeep with the NATS queue. Unlike hits/s, CPU per hit
# holds on a busy machine, so the three can be compared while other work runs.
# Usage: bench/ingest-cpu.sh [seconds=8] [concurrency=32]   (builds the release binaries first)
set -uo pipefail
cd "$(dirname "$0")/.."
S=${1:-8}; C=${2:-32}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
cargo build --release --locked --bin hitkeep --example bare202 --example loadgen >&2 || exit 1
BIN=$CARGO_TARGET_DIR/release
NATS_BIN=${HITKEEP_NATS_SERVER:-$HOME/.cache/hitkeep/venv/nats/bin/nats-server}
W=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; }
run() { # name url pids...
  local name=$1 url=$2; shift 2
  declare -A b; for p in "$@"; do b[$p]=$(ticks $p); done
  /usr/bin/time -f "%U %S" -o $W/lt "$BIN/examples/loadgen" --url $url --concurrency $C --seconds $S > $W/out.json
  local n=$(python3 -c "import json;r=json.load(open('$W/out.json'));print(int(r.get('accepted') or r.get('ok') or r.get('requests') or 0))")
  local rps=$(python3 -c "import json;r=json.load(open('$W/out.json'));print(r.get('rps') or r.get('requests_per_sec') or r.get('accepted_per_sec'))")
  local line="$name rps=$rps"
  for p in "$@"; do line="$line $(cat /proc/$p/comm)=$(python3 -c "print(round(($(ticks $p)-${b[$p]})/100/$n*1e6,1))")us"; done
  line="$line loadgen=$(python3 -c "u,s=open('$W/lt').read().split();print(round((float(u)+float(s))/$n*1e6,1))")us"
  echo "$line  $(cat $W/out.json)"
}
"$BIN/examples/bare202" 127.0.0.1:18191 >/dev/null & BARE=$!; wait_port http://127.0.0.1:18191/
run bare http://127.0.0.1:18191 $BARE; kill $BARE
"$BIN/hitkeep" site add shop.test --data-dir $W/d1 >/dev/null
"$BIN/hitkeep" serve --http 127.0.0.1:18190 --data-dir $W/d1 --trusted-proxies 127.0.0.1 --log-level error >/dev/null & HK=$!
wait_port http://127.0.0.1:18190/healthz; run memory http://127.0.0.1:18190 $HK; kill $HK; wait $HK
"$NATS_BIN" -a 127.0.0.1 -p 18492 -js -sd $W/nats >/dev/null 2>&1 & NATS=$!; sleep 0.5
"$BIN/hitkeep" site add shop.test --data-dir $W/d3 >/dev/null
"$BIN/hitkeep" serve --http 127.0.0.1:18193 --data-dir $W/d3 --trusted-proxies 127.0.0.1 --log-level error --queue nats://127.0.0.1:18492 >/dev/null & HK=$!
wait_port http://127.0.0.1:18193/healthz; run nats http://127.0.0.1:18193 $HK $NATS; kill $HK; wait $HK; kill $NATS
