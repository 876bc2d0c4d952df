//! Exact answers from `/api/v2/query`: a dataset sent through `/ingest` with controlled times,
//! counted by hand.

use serde_json::{Value, json};

use crate::harness::*;

const TOKEN: &str = "report-token";

struct Hit {
    ip: &'static str,
    ua: &'static str,
    at: &'static str,
    kind: Kind,
}

enum Kind {
    Page(&'static str, Option<&'static str>),
    Event(&'static str, &'static str, Value),
}

fn page(
    ip: &'static str,
    ua: &'static str,
    at: &'static str,
    path: &'static str,
    referrer: Option<&'static str>,
) -> Hit {
    Hit { ip, ua, at, kind: Kind::Page(path, referrer) }
}

fn event(
    ip: &'static str,
    ua: &'static str,
    at: &'static str,
    name: &'static str,
    on: &'static str,
    props: Value,
) -> Hit {
    Hit { ip, ua, at, kind: Kind::Event(name, on, props) }
}

async fn send(s: &Server, origin: &str, hits: &[Hit]) {
    for h in hits {
        let (path, body) = match &h.kind {
            Kind::Page(p, r) => ("/ingest", json!({"path": p, "referrer": r, "sc_w": 1440, "timestamp": h.at})),
            Kind::Event(n, on, props) => ("/ingest/event", json!({"n": n, "u": on, "p": props, "timestamp": h.at})),
        };
        let r = s
            .post(path, origin, h.ua, body.to_string())
            .bearer_auth(TOKEN)
            .header("x-forwarded-for", h.ip)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    }
}

/// The shop dataset (UTC site): five visits of four visitors on 2024-03-05, one on 2024-03-06.
fn shop_hits() -> Vec<Hit> {
    let (v1, v2, v3, v4) = ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4");
    vec![
        // V1, visit A: Google, / -> /pricing -> Signup -> /thanks (6 minutes).
        page(v1, CHROME_MAC, "2024-03-05T10:00:00Z", "/", Some("https://www.google.com/")),
        page(v1, CHROME_MAC, "2024-03-05T10:02:00Z", "/pricing", None),
        event(v1, CHROME_MAC, "2024-03-05T10:05:00Z", "Signup", "/pricing", json!({"plan": "pro"})),
        page(v1, CHROME_MAC, "2024-03-05T10:06:00Z", "/thanks", None),
        // V2, visit C: Twitter, /pricing -> / (1 minute).
        page(v2, SAFARI_IPHONE, "2024-03-05T10:10:00Z", "/pricing", Some("https://t.co/x")),
        page(v2, SAFARI_IPHONE, "2024-03-05T10:11:00Z", "/", None),
        // V3, visit D: newsletter, bounce.
        page(v3, CHROME_MAC, "2024-03-05T11:00:00Z", "/?utm_source=newsletter&utm_medium=email", None),
        // V4, visit E: steps out of order: /thanks -> Signup -> /pricing (2 minutes).
        page(v4, CHROME_MAC, "2024-03-05T11:00:30Z", "/thanks", None),
        event(v4, CHROME_MAC, "2024-03-05T11:01:30Z", "Signup", "/thanks", json!({"plan": "free"})),
        page(v4, CHROME_MAC, "2024-03-05T11:02:30Z", "/pricing", None),
        // V1, visit B: two hours later, direct, bounce.
        page(v1, CHROME_MAC, "2024-03-05T12:00:00Z", "/blog", None),
        // V2, visit F: the next day, bounce.
        page(v2, SAFARI_IPHONE, "2024-03-06T10:00:00Z", "/", None),
    ]
}

async fn query(s: &Server, q: Value) -> (u16, Value) {
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(&q).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn shop_server() -> (DataDir, Server) {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN, "--trusted-proxies", "127.0.0.1"]);
    s.wait_ready().await;
    let hits = shop_hits();
    send(&s, "https://shop.test", &hits).await;
    s.wait_stored(hits.len() as f64).await;
    (data, s)
}

const DAY: [&str; 2] = ["2024-03-05", "2024-03-05"];

#[tokio::test]
async fn aggregates_breakdowns_and_filters_match_hand_counts() {
    let (_data, s) = shop_server().await;
    let (status, v) = query(
        &s,
        json!({"site_id": "shop.test", "date_range": DAY,
        "metrics": ["visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration", "views_per_visit"]}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        rows(&v),
        vec![(vec![], vec![json!(4), json!(5), json!(9), json!(11), json!(40), json!(108), json!(1.8)])]
    );
    assert_eq!(v["query"]["date_range"][0], "2024-03-05T00:00:00+00:00");

    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors", "pageviews"], "dimensions": ["event:page"]})).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("/")], vec![json!(3), json!(3)]),
            (vec![json!("/pricing")], vec![json!(3), json!(3)]),
            (vec![json!("/thanks")], vec![json!(2), json!(2)]),
            (vec![json!("/blog")], vec![json!(1), json!(1)]),
        ]
    );

    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visits", "bounce_rate"], "dimensions": ["visit:entry_page"]})).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("/")], vec![json!(2), json!(50)]),
            (vec![json!("/blog")], vec![json!(1), json!(100)]),
            (vec![json!("/pricing")], vec![json!(1), json!(0)]),
            (vec![json!("/thanks")], vec![json!(1), json!(0)]),
        ]
    );
    let (_, v) = query(
        &s,
        json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visits"], "dimensions": ["visit:exit_page"]}),
    )
    .await;
    assert_eq!(rows(&v)[0], (vec![json!("/")], vec![json!(2)]));

    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors", "visits"], "dimensions": ["visit:source"]})).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("Direct / None")], vec![json!(2), json!(2)]),
            (vec![json!("Google")], vec![json!(1), json!(1)]),
            (vec![json!("Twitter")], vec![json!(1), json!(1)]),
            (vec![json!("newsletter")], vec![json!(1), json!(1)]),
        ]
    );
    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors", "percentage"], "dimensions": ["visit:device"]})).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("Desktop")], vec![json!(3), json!(75.0)]),
            (vec![json!("Mobile")], vec![json!(1), json!(25.0)])
        ]
    );

    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors", "events"], "dimensions": ["event:props:plan"], "filters": [["is", "event:name", ["Signup"]]]})).await;
    assert_eq!(
        rows(&v),
        vec![(vec![json!("free")], vec![json!(1), json!(1)]), (vec![json!("pro")], vec![json!(1), json!(1)])]
    );

    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors"], "dimensions": ["time:hour"], "include": {"time_labels": true}})).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("2024-03-05 10:00:00")], vec![json!(2)]),
            (vec![json!("2024-03-05 11:00:00")], vec![json!(2)]),
            (vec![json!("2024-03-05 12:00:00")], vec![json!(1)]),
        ]
    );
    assert_eq!(v["meta"]["time_labels"].as_array().unwrap().len(), 24);

    // Filters.
    let agg = |filters: Value| {
        let s = &s;
        async move {
            let (status, v) = query(s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors", "visits", "pageviews"], "filters": filters})).await;
            assert_eq!(status, 200, "{v}");
            rows(&v)[0].1.clone()
        }
    };
    assert_eq!(agg(json!([["is", "visit:source", ["Google"]]])).await, vec![json!(1), json!(1), json!(3)]);
    assert_eq!(agg(json!([["contains", "event:page", ["pric"]]])).await, vec![json!(3), json!(3), json!(3)]);
    assert_eq!(
        agg(json!([["is", "event:page", ["/PRICING"], {"case_sensitive": false}]])).await,
        vec![json!(3), json!(3), json!(3)]
    );
    assert_eq!(agg(json!([["is", "event:page", ["/PRICING"]]])).await, vec![json!(0), json!(0), json!(0)]);
    assert_eq!(agg(json!([["matches", "event:page", ["^/(blog|thanks)$"]]])).await, vec![json!(2), json!(3), json!(3)]);
    assert_eq!(
        agg(json!([["or", [["is", "event:page", ["/blog"]], ["is", "visit:source", ["Twitter"]]]]])).await,
        vec![json!(2), json!(2), json!(3)]
    );
    assert_eq!(
        agg(json!([["not", ["is", "visit:source", ["Direct / None"]]]])).await,
        vec![json!(3), json!(3), json!(6)]
    );
    assert_eq!(agg(json!([["is", "visit:entry_page", ["/"]]])).await, vec![json!(2), json!(2), json!(4)]);
    let visits = |filters: Value| {
        let s = &s;
        async move {
            let (_, v) = query(s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visits", "bounce_rate"], "filters": filters})).await;
            rows(&v)[0].1.clone()
        }
    };
    assert_eq!(visits(json!([["has_done", ["is", "event:name", ["Signup"]]]])).await, vec![json!(2), json!(0)]);
    assert_eq!(visits(json!([["has_not_done", ["is", "event:name", ["Signup"]]]])).await, vec![json!(3), json!(67)]);

    // Order, pagination, total rows.
    let (_, v) = query(
        &s,
        json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors"], "dimensions": ["event:page"],
        "order_by": [["event:page", "asc"]], "pagination": {"limit": 2, "offset": 1}, "include": {"total_rows": true}}),
    )
    .await;
    assert_eq!(rows(&v), vec![(vec![json!("/blog")], vec![json!(1)]), (vec![json!("/pricing")], vec![json!(3)])]);
    assert_eq!(v["meta"]["total_rows"], 4);
    s.stop();
}

#[tokio::test]
async fn goals_conversions_funnels_comparison_and_csv() {
    let (_data, s) = shop_server().await;
    let goal = |body: Value| s.client.post(s.url("/api/sites/shop.test/goals")).bearer_auth(TOKEN).json(&body).send();
    assert_eq!(goal(json!({"event_name": "Signup"})).await.unwrap().status(), 201);
    assert_eq!(goal(json!({"page_path": "/thanks"})).await.unwrap().status(), 201);
    assert_eq!(goal(json!({"page_path": "no-slash"})).await.unwrap().status(), 400);
    assert_eq!(goal(json!({"page_path": "/a", "event_name": "b"})).await.unwrap().status(), 400);

    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors", "events", "conversion_rate"], "dimensions": ["event:goal"]})).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("Signup")], vec![json!(2), json!(2), json!(50.0)]),
            (vec![json!("Visit /thanks")], vec![json!(2), json!(2), json!(50.0)]),
        ]
    );
    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors", "conversion_rate"], "filters": [["is", "event:goal", ["Signup"]]]})).await;
    assert_eq!(rows(&v)[0].1, vec![json!(2), json!(50.0)]);

    let r = s.client.post(s.url("/api/sites/shop.test/funnels")).bearer_auth(TOKEN)
        .json(&json!({"name": "Checkout", "steps": [{"page_path": "/pricing"}, {"event_name": "Signup"}, {"page_path": "/thanks"}]}))
        .send().await.unwrap();
    assert_eq!(r.status(), 201);
    let funnel: Value = r.json().await.unwrap();
    let report: Value = s
        .client
        .get(s.url(&format!("/api/sites/shop.test/funnels/{}?date_range=2024-03-05,2024-03-05", funnel["id"])))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<(u64, u64)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["visitors"].as_u64().unwrap(), s["dropoff"].as_u64().unwrap()))
        .collect();
    assert_eq!(steps, vec![(3, 0), (1, 2), (1, 0)], "out-of-order steps do not count: {report}");
    assert_eq!(report["steps"][2]["conversion_rate"], 33.3);
    let bad = s
        .client
        .post(s.url("/api/sites/shop.test/funnels"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "x", "steps": [{"page_path": "/"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let (_, v) = query(&s, json!({"site_id": "shop.test", "date_range": ["2024-03-06", "2024-03-06"], "metrics": ["visitors", "bounce_rate"], "compare": "previous_period"})).await;
    let row = &v["results"][0];
    assert_eq!(row["metrics"], json!([1, 100]));
    assert_eq!(row["comparison"]["metrics"], json!([4, 40]));
    assert_eq!(row["comparison"]["change"], json!([-75, 60.0]));
    assert_eq!(v["meta"]["comparison_date_range"][0], "2024-03-05T00:00:00+00:00");

    let csv = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).header("accept", "text/csv")
        .json(&json!({"site_id": "shop.test", "date_range": DAY, "metrics": ["visitors"], "dimensions": ["visit:source"]}))
        .send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(
        csv.text().await.unwrap(),
        "visit:source,visitors\nDirect / None,2\nGoogle,1\nTwitter,1\nnewsletter,1\n"
    );
    s.stop();
}

#[tokio::test]
async fn invalid_queries_and_access_are_refused_with_reasons() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let r = s
        .client
        .post(s.url("/api/v2/query"))
        .json(&json!({"site_id": "shop.test", "date_range": "day", "metrics": ["visitors"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, v) = query(&s, json!({"site_id": "nope.test", "date_range": "day", "metrics": ["visitors"]})).await;
    assert_eq!(status, 404, "{v}");
    for (q, needle) in [
        (json!({"site_id": "shop.test", "date_range": "day", "metrics": ["visitorz"]}), "Unknown metric"),
        (json!({"site_id": "shop.test", "date_range": "forever", "metrics": ["visitors"]}), "date_range"),
        (
            json!({"site_id": "shop.test", "date_range": "day", "metrics": ["bounce_rate"], "dimensions": ["event:name"]}),
            "Session metric",
        ),
        (
            json!({"site_id": "shop.test", "date_range": "day", "metrics": ["visitors"], "filters": [["is", "visit:nope", ["x"]]]}),
            "Invalid filter",
        ),
        (json!({"site_id": "shop.test", "date_range": "day", "metrics": "visitors"}), "not a valid query"),
    ] {
        let (status, v) = query(&s, q).await;
        assert_eq!(status, 400, "{v}");
        assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
    }
    s.stop();
}

#[tokio::test]
async fn day_buckets_follow_the_site_time_zone_across_dst() {
    let data = DataDir::with_sites(&[]);
    for (site, tz) in [("berlin.test", "Europe/Berlin"), ("ny.test", "America/New_York")] {
        let (ok, _, err) = cli(&["site", "add", site, "--timezone", tz, "--data-dir", data.path_str()]);
        assert!(ok, "{err}");
    }
    let s = Server::start(&data, &["--api-token", TOKEN, "--trusted-proxies", "127.0.0.1"]);
    s.wait_ready().await;
    // Berlin springs forward on 2024-03-31 (UTC+1 -> UTC+2).
    let berlin = [
        page("5.0.0.1", CHROME_MAC, "2024-03-30T22:59:00Z", "/", None), // 23:59 on the 30th
        page("5.0.0.2", CHROME_MAC, "2024-03-30T23:00:00Z", "/", None), // 00:00 on the 31st
        page("5.0.0.3", CHROME_MAC, "2024-03-31T21:59:00Z", "/", None), // 23:59 on the 31st (UTC+2)
        page("5.0.0.4", CHROME_MAC, "2024-03-31T22:00:00Z", "/", None), // 00:00 on April 1st
    ];
    send(&s, "https://berlin.test", &berlin).await;
    // New York springs forward on 2024-03-10 and falls back on 2024-11-03.
    let ny = [
        page("6.0.0.1", CHROME_MAC, "2024-03-10T04:59:00Z", "/", None), // 23:59 on the 9th (UTC-5)
        page("6.0.0.2", CHROME_MAC, "2024-03-10T05:00:00Z", "/", None), // 00:00 on the 10th
        page("6.0.0.3", CHROME_MAC, "2024-03-11T03:59:00Z", "/", None), // 23:59 on the 10th (UTC-4)
        page("6.0.0.4", CHROME_MAC, "2024-03-11T04:00:00Z", "/", None), // 00:00 on the 11th
        page("6.0.0.5", CHROME_MAC, "2024-11-03T04:30:00Z", "/", None), // 00:30 on Nov 3rd (UTC-4)
        page("6.0.0.6", CHROME_MAC, "2024-11-04T04:30:00Z", "/", None), // 23:30 on Nov 3rd (UTC-5)
    ];
    send(&s, "https://ny.test", &ny).await;
    s.wait_stored(10.0).await;

    let days = |site: &'static str, range: [&'static str; 2]| {
        let s = &s;
        async move {
            let (status, v) = query(
                s,
                json!({"site_id": site, "date_range": range, "metrics": ["visitors"], "dimensions": ["time:day"]}),
            )
            .await;
            assert_eq!(status, 200, "{v}");
            rows(&v)
                .into_iter()
                .map(|(d, m)| (d[0].as_str().unwrap().to_string(), m[0].as_u64().unwrap()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        days("berlin.test", ["2024-03-30", "2024-04-01"]).await,
        vec![("2024-03-30".into(), 1), ("2024-03-31".into(), 2), ("2024-04-01".into(), 1)]
    );
    assert_eq!(
        days("ny.test", ["2024-03-09", "2024-03-11"]).await,
        vec![("2024-03-09".into(), 1), ("2024-03-10".into(), 2), ("2024-03-11".into(), 1)]
    );
    assert_eq!(
        days("ny.test", ["2024-11-03", "2024-11-03"]).await,
        vec![("2024-11-03".into(), 2)],
        "the 25-hour day holds both"
    );
    s.stop();
}

#[tokio::test]
async fn realtime_stream_announces_new_data() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let now: Value = s
        .client
        .get(s.url("/api/sites/shop.test/realtime"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["visitors"], 0);
    let mut stream = s
        .client
        .get(s.url("/api/sites/shop.test/realtime"))
        .bearer_auth(TOKEN)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    let first =
        tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk()).await.unwrap().unwrap().unwrap();
    seen.push_str(&String::from_utf8_lossy(&first));
    assert!(seen.contains("\"visitors\":0"), "{seen}");
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, pageview("/live", None)).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains("\"visitors\":1") {
        assert!(std::time::Instant::now() < deadline, "no update after a hit: {seen}");
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(std::time::Duration::from_secs(1), stream.chunk()).await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    drop(stream);
    s.stop();
}
