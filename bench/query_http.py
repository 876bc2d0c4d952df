"""Times the dashboard's queries through POST /api/v2/query (p50 / p95 over N runs)."""
import json, statistics, sys, time, urllib.request

base, site, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
R = "30d"
QUERIES = {
    "kpis+compare": {"metrics": ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"], "compare": "previous_period"},
    "timeseries": {"metrics": ["visitors", "pageviews"], "dimensions": ["time:day"], "include": {"time_labels": True}},
    "top pages": {"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"], "pagination": {"limit": 10}},
    "sources": {"metrics": ["visitors"], "dimensions": ["visit:source"], "pagination": {"limit": 10}},
    "countries": {"metrics": ["visitors"], "dimensions": ["visit:country"], "pagination": {"limit": 10}},
    "browsers": {"metrics": ["visitors"], "dimensions": ["visit:browser"], "pagination": {"limit": 10}},
    "entry pages": {"metrics": ["visits", "bounce_rate"], "dimensions": ["visit:entry_page"], "pagination": {"limit": 10}},
}

def run(q):
    body = json.dumps({"site_id": site, "date_range": R, **q}).encode()
    req = urllib.request.Request(base + "/api/v2/query", data=body, headers={"Authorization": "Bearer bench", "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read()
    return (time.perf_counter() - t) * 1000

total_p50 = 0.0
print(f"{'query':<14} {'p50 ms':>8} {'p95 ms':>8}")
for name, q in QUERIES.items():
    run(q)  # warm-up
    times = sorted(run(q) for _ in range(runs))
    p50, p95 = statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]
    total_p50 += p50
    print(f"{name:<14} {p50:8.1f} {p95:8.1f}")
print(f"{'all (sum p50)':<14} {total_p50:8.1f}")
