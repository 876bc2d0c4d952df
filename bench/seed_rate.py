#!/usr/bin/env python3
"""Reads `hitkeep seed`'s progress (stderr, lines ended by \\r) and prints the seed rate of each
step of STEP hits (default 1,000,000), timed here on arrival: the curve shows whether seeding
stays flat as the table grows. Usage: hitkeep seed ... 2>&1 | bench/seed_rate.py [STEP]"""
import re
import sys
import time

step = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
start = time.monotonic()
mark_n, mark_t, next_mark = 0, start, step
buf = ""
rates = []
while True:
    chunk = sys.stdin.read(1)
    if not chunk:
        break
    if chunk not in "\r\n":
        buf += chunk
        continue
    line, buf = buf, ""
    m = re.search(r"seeded (\d+)/(\d+)", line)
    if not m:
        if line.strip():
            print(line, flush=True)
        continue
    n, now = int(m.group(1)), time.monotonic()
    if n >= next_mark:
        rate = (n - mark_n) / max(now - mark_t, 1e-9)
        rates.append(rate)
        print(f"{n:>12,} hits  {now - start:8.1f} s  {rate:9,.0f} hits/s over the last {n - mark_n:,}", flush=True)
        mark_n, mark_t = n, now
        next_mark = (n // step + 1) * step
if rates:
    print(f"rate per step: first {rates[0]:,.0f}, min {min(rates):,.0f}, max {max(rates):,.0f}, "
          f"last {rates[-1]:,.0f} hits/s; overall {mark_n / (mark_t - start):,.0f} hits/s")
