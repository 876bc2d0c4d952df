"""Times report queries through the HTTP API (the lists in bench/queries.json).

  query_http.py BASE SITE RUNS [dashboard|all]    p50 / p95 per query over RUNS runs
  query_http.py BASE SITE RUNS concurrent USERS   USERS dashboards at once, each loading its
                                                  queries in parallel (as the SPA does); p50 / p95
                                                  of the time to a full dashboard (BENCH_COLD=1:
                                                  no warm-up dashboard first)
"""
import json, os, statistics, sys, threading, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor

base, site, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "dashboard"
SPEC = json.load(open(os.path.join(os.path.dirname(__file__), "queries.json")))
AUTH = {"Authorization": "Bearer bench", "Content-Type": "application/json"}


def call(method, path, body=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
                                 headers=AUTH, method=method)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def run(q):
    body = {"site_id": site, "date_range": "30d", **q}
    t = time.perf_counter()
    call("POST", "/api/v2/query", body)
    return (time.perf_counter() - t) * 1000


def pct(times):
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def ensure_goals_and_funnel():
    """The bench site's goals and funnel (created once); returns the funnel's id."""
    goals = call("GET", f"/api/sites/{site}/goals")
    for g in SPEC["goals"]:
        if not any(x.get("event_name") == g.get("event_name") and x.get("page_path") == g.get("page_path") for x in goals):
            call("POST", f"/api/sites/{site}/goals", g)
    funnels = call("GET", f"/api/sites/{site}/funnels")
    for f in funnels:
        if f["name"] == "bench":
            return f["id"]
    return call("POST", f"/api/sites/{site}/funnels", {"name": "bench", "steps": SPEC["funnel"]})["id"]


def per_query(lists):
    funnel = ensure_goals_and_funnel() if "other" in lists else None
    total = 0.0
    print(f"{'query':<18} {'p50 ms':>8} {'p95 ms':>8}")
    for lst in lists:
        for name, q in SPEC[lst]:
            try:
                run(q)  # warm-up
                p50, p95 = pct([run(q) for _ in range(runs)])
            except urllib.error.HTTPError as e:
                print(f"{name:<18} HTTP {e.code} ({json.loads(e.read() or b'{}').get('error', '')})")
                continue
            if lst == "dashboard":
                total += p50
            print(f"{name:<18} {p50:8.1f} {p95:8.1f}")
        if lst == "dashboard":
            print(f"{'dashboard (sum)':<18} {total:8.1f}")
    if funnel is not None:
        def f():
            t = time.perf_counter()
            call("GET", f"/api/sites/{site}/funnels/{funnel}?date_range=30d")
            return (time.perf_counter() - t) * 1000
        f()
        p50, p95 = pct([f() for _ in range(runs)])
        print(f"{'funnel (3 steps)':<18} {p50:8.1f} {p95:8.1f}")


def dashboard(pool):
    """Milliseconds to the whole dashboard, or None when a query was refused (e.g. 503)."""
    t = time.perf_counter()
    try:
        list(pool.map(lambda nq: run(nq[1]), SPEC["dashboard"]))
    except urllib.error.HTTPError:
        return None
    return (time.perf_counter() - t) * 1000


def concurrent(users):
    """Each user loads the dashboard RUNS times, all users at once."""
    times, lock = [], threading.Lock()
    def user():
        with ThreadPoolExecutor(len(SPEC["dashboard"])) as pool:
            for _ in range(runs):
                d = dashboard(pool)
                with lock:
                    times.append(d)
    if os.environ.get("BENCH_COLD") is None:
        with ThreadPoolExecutor(len(SPEC["dashboard"])) as pool:
            dashboard(pool)  # warm-up
    threads = [threading.Thread(target=user) for _ in range(users)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    done = [t for t in times if t is not None]
    failed = len(times) - len(done)
    if not done:
        print(f"{users} concurrent dashboards x {runs}: every dashboard had a refused query ({wall:.1f} s)")
        return
    p50, p95 = pct(done)
    print(f"{users} concurrent dashboards x {runs}: full dashboard p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
          f"{len(done) / wall:.2f} dashboards/s, {failed} with a refused query")


if mode == "concurrent":
    concurrent(int(sys.argv[5]) if len(sys.argv) > 5 else 8)
else:
    per_query(["dashboard", "other"] if mode == "all" else ["dashboard"])
