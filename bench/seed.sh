#!/usr/bin/env bash
# Seed rate and storage: `hitkeep seed` of EVENTS hits over DAYS days into a fresh data directory,
# the rate of each STEP hits (is it flat from the first to the last?), wall time and peak RSS,
# then bytes per hit per column of the seeded table (bench/storage.py on a copy).
# Usage: bench/seed.sh [events=2000000] [days=60] [step=1000000]   (BIN=... to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-2000000}
DAYS=${2:-60}
STEP=${3:-1000000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
if [ -z "${BIN:-}" ]; then
  make -s assets
  cargo build --release --locked --bin hitkeep
  BIN=$CARGO_TARGET_DIR/release/hitkeep
fi
OUT=bench/results; mkdir -p "$OUT"
DATA=${SEED_DATA:-$OUT/seed-$EVENTS-$DAYS}
rm -rf "$DATA"
echo "== seeding $EVENTS hits over $DAYS days into $DATA ($BIN)"
{ /usr/bin/time -v "$BIN" seed --site bench.test --events "$EVENTS" --days "$DAYS" --data-dir "$DATA" 2>&1 1>/dev/null; } \
  | python3 bench/seed_rate.py "$STEP" | tee "$OUT/seed-rate-$EVENTS.txt" | grep -E "hits|Elapsed|Maximum resident"
VENV=$OUT/venv
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" -q install duckdb==2.0.0; }
cp "$DATA/hitkeep.db" "$OUT/storage-copy.db"
"$VENV/bin/python" bench/storage.py "$OUT/storage-copy.db" | tee "$OUT/storage-$EVENTS.txt"
rm -f "$OUT/storage-copy.db"
