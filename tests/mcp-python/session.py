"""An MCP session with the official Python client against a live HitKeep server.

Usage: session.py BASE_URL SITE_A_READ_TOKEN OPERATOR_TOKEN
Traffic is sent first (Plausible Events API, as the operator's trusted proxy), then the
assistant's answers are compared with /api/v2/query's for the same bodies.
"""

import asyncio
import json
import sys
import time

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

BASE, TOKEN, OPERATOR = sys.argv[1], sys.argv[2], sys.argv[3]
CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")


def send_traffic() -> None:
    hits = [("shop.test", "/", "1.1.1.1", "https://www.google.com/"),
            ("shop.test", "/pricing", "1.1.1.1", None),
            ("shop.test", "/", "2.2.2.2", "https://chatgpt.com/"),
            ("shop.test", "/blog", "3.3.3.3", None),
            ("blog.test", "/secret", "4.4.4.4", None)]
    with httpx.Client() as c:
        for site, path, ip, ref in hits:
            body = {"n": "pageview", "u": f"https://{site}{path}", "d": site, "r": ref}
            r = c.post(f"{BASE}/api/event", json=body,
                       headers={"user-agent": CHROME, "x-forwarded-for": ip})
            assert r.status_code == 202, r.text
        deadline = time.time() + 20
        while True:
            metrics = c.get(f"{BASE}/metrics").text
            stored = next(float(l.split()[1]) for l in metrics.splitlines()
                          if l.startswith("hitkeep_stored_events_total "))
            if stored >= len(hits):
                break
            assert time.time() < deadline, "hits not stored in time"
            time.sleep(0.05)


def rest_query(body: dict) -> dict:
    r = httpx.post(f"{BASE}/api/v2/query", json=body, headers={"authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    return r.json()


def tool_json(result) -> dict:
    assert not result.isError, result.content
    return json.loads(result.content[0].text)


async def session() -> None:
    url = f"{BASE}/mcp"
    async with streamablehttp_client(url, headers={"authorization": f"Bearer {TOKEN}"}) as (read, write, _):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            assert init.serverInfo.name == "hitkeep", init
            names = sorted(t.name for t in (await s.list_tools()).tools)
            assert names == sorted(["list_sites", "query", "top_pages", "sources", "realtime",
                                    "compare_periods", "list_goals", "funnel"]), names

            sites = tool_json(await s.call_tool("list_sites", {}))
            print("list_sites:", sites)

            body = {"site_id": "shop.test", "date_range": "day", "metrics": ["visitors", "pageviews"],
                    "dimensions": ["visit:source"], "order_by": [["visitors", "desc"], ["visit:source", "asc"]]}
            answer = tool_json(await s.call_tool("query", body))
            assert answer == rest_query(body), (answer, rest_query(body))
            rows = [(r["dimensions"], r["metrics"]) for r in answer["results"]]
            assert rows == [(["ChatGPT"], [1, 1]), (["Direct / None"], [1, 1]), (["Google"], [1, 2])], rows

            top = tool_json(await s.call_tool("top_pages", {"site_id": "shop.test", "date_range": "day", "limit": 3}))
            same = {"site_id": "shop.test", "date_range": "day", "metrics": ["visitors", "pageviews"],
                    "dimensions": ["event:page"], "order_by": [["visitors", "desc"]], "pagination": {"limit": 3}}
            assert top == rest_query(same), (top, rest_query(same))
            assert top["results"][0] == {"dimensions": ["/"], "metrics": [2, 2]}, top

            # The same validation as /api/v2/query: the API's message comes back as a tool error.
            bad = await s.call_tool("query", {"site_id": "shop.test", "date_range": "day", "metrics": ["nope"]})
            assert bad.isError and "nope" in bad.content[0].text, bad.content

            # The token is limited to shop.test: blog.test is not found, though its user reads it.
            other = await s.call_tool("top_pages", {"site_id": "blog.test", "date_range": "day"})
            assert other.isError and "404" in other.content[0].text, other.content
            other = await s.call_tool("query", {"site_id": "blog.test", "date_range": "day", "metrics": ["visitors"]})
            assert other.isError, other.content

            live = tool_json(await s.call_tool("realtime", {"site_id": "shop.test"}))
            assert live["visitors"] == 3, live
            cmp = tool_json(await s.call_tool("compare_periods", {"site_id": "shop.test", "date_range": "day"}))
            assert cmp["results"][0]["metrics"][0] == 3 and "comparison" in cmp["results"][0], cmp
            goals = tool_json(await s.call_tool("list_goals", {"site_id": "shop.test"}))
            assert goals == {"goals": [], "funnels": []}, goals

            resources = (await s.list_resources()).resources
            assert [str(r.uri) for r in resources] == ["hitkeep://sites/shop.test/summary"], resources
            summary = json.loads((await s.read_resource(resources[0].uri)).contents[0].text)
            assert summary["today"][0]["metrics"][:3] == [3, 3, 4], summary
            assert summary["totals"][0]["metrics"][:3] == [0, 0, 0], "30d ends yesterday: %s" % summary
    print("MCP session: initialize, tools, query, top_pages, site limits, resources: ok")


def no_token() -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "probe", "version": "0"}}}
    for headers in ({}, {"authorization": "Bearer not-a-token"}):
        r = httpx.post(f"{BASE}/mcp", json=hello, headers={"accept": "application/json, text/event-stream", **headers})
        assert r.status_code == 401, (r.status_code, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer"), r.headers
    print("no token / unknown token: 401")


send_traffic()
no_token()
asyncio.run(session())
