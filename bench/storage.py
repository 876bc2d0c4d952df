#!/usr/bin/env python3
"""Where the bytes of `events` go, per column: each column segment of pragma_storage_info owns the
space of its block up to the next segment (or the block's end; plus whole extra blocks), summed
per column and divided by the row count. Opens a copy read-only; never a live server's file.
Usage: bench/storage.py DATABASE (needs the duckdb Python package of the bundled version)."""
import os
import sys

import duckdb

path = sys.argv[1]
con = duckdb.connect(path, read_only=True)
size = os.path.getsize(path)
_, _, block, total, used, free, *_ = con.sql("PRAGMA database_size").fetchall()[0]
n = con.sql("SELECT count(*) FROM events").fetchall()[0][0]
print(f"file {size / 1e6:.1f} MB, {total} blocks of {block // 1024} KiB ({free} free), "
      f"{n:,} events: {size / max(n, 1):.2f} bytes per hit")
rows = con.sql(f"""
    WITH s AS (SELECT column_name, compression, block_id, block_offset, len(additional_block_ids) AS extra
               FROM pragma_storage_info('events') WHERE persistent AND block_id >= 0),
    sized AS (SELECT *, coalesce(lead(block_offset) OVER (PARTITION BY block_id ORDER BY block_offset),
                                 {block}) - block_offset + extra * {block} AS bytes FROM s)
    SELECT column_name, string_agg(DISTINCT compression, ',' ORDER BY compression), sum(bytes)
    FROM sized GROUP BY column_name ORDER BY sum(bytes) DESC""").fetchall()
print(f"| column | bytes per hit | compression |\n|---|---:|---|")
for column, compression, b in rows:
    print(f"| {column} | {b / n:.2f} | {compression} |")
print(f"| all columns | {sum(r[2] for r in rows) / n:.2f} | |")
print(f"| free blocks | {free * block / n:.2f} | |")
