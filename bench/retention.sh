#!/usr/bin/env bash
# Retention shrink: seed 1M hits over 60 days, keep 30, archive + delete, then compact; prints sizes.
# Usage: bench/retention.sh [DATA_DIR]  (needs python3 with duckdb for the block counts)
set -e
B=${HITKEEP_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}/release/hitkeep}; D=${1:-/tmp/hk-bench-retention}; rm -rf $D
$B site add bench.test --data-dir $D >/dev/null
/usr/bin/time -f "seed %e s" $B seed --site bench.test --events 1000000 --days 60 --data-dir $D
echo "before: $(stat -c %s $D/hitkeep.db) bytes, events $($B export --site bench.test --data-dir $D 2>/dev/null | wc -l)"
$B site retention bench.test 30 --data-dir $D
/usr/bin/time -f "retention+archive %e s" $B retention --data-dir $D --archive --no-compact
echo "after delete+checkpoint: $(stat -c %s $D/hitkeep.db) bytes"
du -sb $D/archive
python3 -c "
import duckdb; c=duckdb.connect('$D/hitkeep.db', read_only=True); print(c.execute('select * from pragma_database_size()').fetchall())"
/usr/bin/time -f "compaction %e s" $B retention --data-dir $D
echo "after compaction: $(stat -c %s $D/hitkeep.db) bytes, events $($B export --site bench.test --data-dir $D 2>/dev/null | wc -l)"
