//! The query side of Plausible compatibility: Plausible's documented v2 examples answer with
//! Plausible's shape (query echo included), missing visit attributes are `(not set)`, and
//! `time_on_page` by page answers exact values.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::harness::*;

pub(crate) const TOKEN: &str = "plausible-query-token";
pub(crate) const SITE: &str = "shop.test";
fn fixtures() -> std::path::PathBuf {
    crate::harness::checkout().join("tests/fixtures/plausible-api-v2")
}

pub(crate) async fn server() -> (DataDir, Server) {
    let data = DataDir::with_sites(&[SITE]);
    let s = Server::start(&data, &["--api-token", TOKEN, "--trusted-proxies", "127.0.0.1"]);
    s.wait_ready().await;
    (data, s)
}

/// Sends one pageview of `ip` at `at` (RFC 3339) through `/ingest`.
async fn pageview(s: &Server, ip: &str, ua: &str, at: &str, path: &str) {
    let body = json!({"path": path, "referrer": null, "sc_w": 1440, "timestamp": at});
    let r = s
        .post("/ingest", "https://shop.test", ua, body.to_string())
        .bearer_auth(TOKEN)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

async fn query(s: &Server, q: &Value) -> (u16, Value) {
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(q).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

const DAY: [&str; 2] = ["2024-03-05", "2024-03-05"];

/// Events are stored to the millisecond: two pageviews of one visit sent at the same instant
/// (a tracker's burst, a replayed spool) keep the order they arrived in, so the visit's entry page
/// is the first and its exit page the second (their stored times tied, and either could win).
#[tokio::test]
async fn pageviews_of_one_instant_keep_their_order_in_the_visit() {
    let (_data, s) = server().await;
    for path in ["/first", "/second", "/third"] {
        pageview(&s, "1.1.1.1", CHROME_MAC, "2024-03-05T10:00:00.000123Z", path).await;
    }
    s.wait_stored(3.0).await;
    for (dim, want) in [("visit:entry_page", "/first"), ("visit:exit_page", "/third")] {
        let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["visits"], "dimensions": [dim]});
        let (status, v) = query(&s, &q).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(rows(&v), vec![(vec![json!(want)], vec![json!(1)])], "{dim}");
    }
    let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["pageviews", "time_on_page"], "dimensions": ["event:page"],
                   "order_by": [["event:page", "asc"]]});
    let (_, v) = query(&s, &q).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("/first")], vec![json!(1), json!(0)]),
            (vec![json!("/second")], vec![json!(1), json!(0)]),
            (vec![json!("/third")], vec![json!(1), Value::Null]),
        ],
        "each page but the last has a next one, a millisecond later"
    );
}

/// Regression: `time_on_page` with an `event:page` dimension was a DuckDB binder error (500).
/// Time on page here is the time until the visit's next pageview, averaged per page.
#[tokio::test]
async fn time_on_page_by_page_answers_exact_seconds() {
    let (_data, s) = server().await;
    // Visit A: / (120 s) -> /pricing (240 s) -> /thanks (last). Visit B: /pricing (60 s) -> / (last).
    for (ip, ua, at, path) in [
        ("1.1.1.1", CHROME_MAC, "2024-03-05T10:00:00Z", "/"),
        ("1.1.1.1", CHROME_MAC, "2024-03-05T10:02:00Z", "/pricing"),
        ("1.1.1.1", CHROME_MAC, "2024-03-05T10:06:00Z", "/thanks"),
        ("2.2.2.2", SAFARI_IPHONE, "2024-03-05T10:10:00Z", "/pricing"),
        ("2.2.2.2", SAFARI_IPHONE, "2024-03-05T10:11:00Z", "/"),
    ] {
        pageview(&s, ip, ua, at, path).await;
    }
    s.wait_stored(5.0).await;

    let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["pageviews", "time_on_page"], "dimensions": ["event:page"]});
    let (status, v) = query(&s, &q).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("/")], vec![json!(2), json!(120)]),
            (vec![json!("/pricing")], vec![json!(2), json!(150)]),
            (vec![json!("/thanks")], vec![json!(1), Value::Null]),
        ]
    );

    // With a visit metric too (events and visits joined on the page).
    let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["visitors", "visits", "time_on_page"],
                   "dimensions": ["event:page"], "order_by": [["event:page", "asc"]]});
    let (status, v) = query(&s, &q).await;
    assert_eq!(status, 200, "{v}");
    // Visits count by landing page: A landed on /, B on /pricing.
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("/")], vec![json!(2), json!(1), json!(120)]),
            (vec![json!("/pricing")], vec![json!(2), json!(1), json!(150)]),
            (vec![json!("/thanks")], vec![json!(1), json!(0), Value::Null]),
        ]
    );
}

/// Missing UTM tags and locations are `(not set)`, one group even when events and visits are joined.
#[tokio::test]
async fn missing_visit_attributes_are_not_set() {
    let (_data, s) = server().await;
    pageview(&s, "1.1.1.1", CHROME_MAC, "2024-03-05T10:00:00Z", "/?utm_source=newsletter").await;
    pageview(&s, "2.2.2.2", CHROME_MAC, "2024-03-05T10:01:00Z", "/").await;
    pageview(&s, "3.3.3.3", SAFARI_IPHONE, "2024-03-05T10:02:00Z", "/pricing").await;
    s.wait_stored(3.0).await;

    let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["visitors"], "dimensions": ["visit:utm_source"]});
    let (status, v) = query(&s, &q).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(rows(&v), vec![(vec![json!("(not set)")], vec![json!(2)]), (vec![json!("newsletter")], vec![json!(1)])]);

    // An event filter makes the engine join event and visit aggregates on the dimension.
    let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["visitors", "visits"],
                   "dimensions": ["visit:utm_source"], "filters": [["contains", "event:page", ["/"]]]});
    let (_, v) = query(&s, &q).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("(not set)")], vec![json!(2), json!(2)]),
            (vec![json!("newsletter")], vec![json!(1), json!(1)])
        ]
    );

    // Locations the geo database does not know are labelled too: never a null group.
    for dim in ["visit:country", "visit:country_name", "visit:region_name", "visit:city_name"] {
        let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["visitors"], "dimensions": [dim]});
        let (_, v) = query(&s, &q).await;
        let got = rows(&v);
        assert!(got.iter().all(|(d, _)| d[0].is_string()), "{dim}: {v}");
        assert_eq!(got.iter().map(|(_, m)| m[0].as_u64().unwrap()).sum::<u64>(), 3, "{dim}: {v}");
    }
}

/// The JSON type of a value, for shape comparisons.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().cloned().collect()
}

/// Plausible's documented example queries (with our site id) answer 200 in the documented shape:
/// the same top-level, `meta` and echoed `query` keys, result rows of the same types, and the
/// date range echoed to the second.
#[tokio::test]
async fn documented_examples_answer_with_plausibles_shape() {
    let (_data, s) = server().await;
    for name in ["Signup", "PurchaseUSD", "PurchaseEUR"] {
        let goal = json!({"event_name": name});
        let r = s.client.post(s.url("/api/sites/shop.test/goals")).bearer_auth(TOKEN).json(&goal).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    for (ip, name, currency) in [("4.4.4.4", "PurchaseUSD", "USD"), ("5.5.5.5", "PurchaseEUR", "EUR")] {
        let body = json!({"n": name, "u": "https://shop.test/checkout", "d": SITE, "revenue": {"amount": "9.99", "currency": currency}});
        plausible_event(&s, ip, body).await;
    }
    // Data for today and two days ago (inside "day", "7d" and "all").
    let now = chrono::Utc::now();
    let earlier = (now - chrono::Duration::days(2)).to_rfc3339();
    pageview(&s, "1.1.1.1", CHROME_MAC, &earlier, "/docs?utm_source=newsletter&utm_medium=email").await;
    pageview(&s, "2.2.2.2", SAFARI_IPHONE, &earlier, "/pricing").await;
    pageview(&s, "3.3.3.3", CHROME_MAC, &now.to_rfc3339(), "/blog").await;
    s.wait_stored(5.0).await;

    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix("-query.json").map(String::from))
        .collect();
    names.sort();
    assert_eq!(names.len(), 16, "{names:?}");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
    };
    // The segment example names segment 2: the filters its documented echo shows.
    for filters in [
        json!([["is", "visit:source", ["unused"]]]),
        read("filtering-by-segment-response.json")["query"]["filters"].clone(),
    ] {
        let segment = json!({"name": "s", "type": "site", "segment_data": {"filters": filters}});
        let r = s
            .client
            .post(s.url("/api/sites/shop.test/segments"))
            .bearer_auth(TOKEN)
            .json(&segment)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    for name in &names {
        let mut q = read(&format!("{name}-query.json"));
        q["site_id"] = json!(SITE);
        let documented = read(&format!("{name}-response.json"));
        let (status, v) = query(&s, &q).await;
        assert_eq!(status, 200, "{name}: {v}");
        assert_eq!(keys(&v), keys(&documented), "{name}: top-level keys");
        assert_eq!(keys(&v["meta"]), keys(&documented["meta"]), "{name}: meta keys: {}", v["meta"]);
        let mut echo_keys = keys(&documented["query"]);
        echo_keys.insert("pagination".into());
        assert_eq!(keys(&v["query"]), echo_keys, "{name}: query keys: {}", v["query"]);
        assert_eq!(v["query"]["order_by"], documented["query"]["order_by"], "{name}: order_by");
        // Segment filters are echoed expanded, as Plausible does.
        let filters = if name == "filtering-by-segment" { &documented["query"] } else { &q }.get("filters");
        assert_eq!(v["query"]["filters"], filters.cloned().unwrap_or(json!([])), "{name}: filters");
        let end = v["query"]["date_range"][1].as_str().unwrap();
        assert!(end.ends_with("T23:59:59+00:00"), "{name}: {end}");
        let dims = q.get("dimensions").and_then(Value::as_array).map_or(0, Vec::len);
        let metrics = q["metrics"].as_array().unwrap().len();
        let first_documented = &documented["results"][0];
        for row in v["results"].as_array().unwrap() {
            assert_eq!(keys(row), keys(first_documented), "{name}: row keys");
            assert_eq!(row["dimensions"].as_array().unwrap().len(), dims, "{name}: {row}");
            assert_eq!(row["metrics"].as_array().unwrap().len(), metrics, "{name}: {row}");
            assert!(row["dimensions"].as_array().unwrap().iter().all(Value::is_string), "{name}: {row}");
            for (m, value) in q["metrics"].as_array().unwrap().iter().zip(row["metrics"].as_array().unwrap()) {
                let revenue = m.as_str().unwrap().ends_with("_revenue");
                let ok = match kind(value) {
                    "number" => !revenue,
                    "object" => {
                        revenue && keys(value) == keys(&json!({"value": 0, "currency": 0, "short": 0, "long": 0}))
                    }
                    "null" => revenue,
                    _ => false,
                };
                assert!(ok, "{name}: {m} = {value}");
            }
        }
        if name == "imports-bad-filter" {
            assert_eq!(v["meta"]["imports_skip_reason"], "unsupported_query");
            assert_eq!(v["meta"]["imports_included"], false);
        }
    }

    // Pagination is echoed as given, and defaulted otherwise.
    let q =
        json!({"site_id": SITE, "date_range": "7d", "metrics": ["visitors"], "pagination": {"limit": 3, "offset": 1}});
    let (_, v) = query(&s, &q).await;
    assert_eq!(v["query"]["pagination"], json!({"offset": 1, "limit": 3}));
}

/// Posts a Plausible Events API body (`/api/event`) from `ip`; it must be accepted.
pub(crate) async fn plausible_event(s: &Server, ip: &str, body: Value) {
    assert_eq!(plausible(s, CHROME_MAC, ip, body).await.0, 202);
}

/// Scroll depth, as Plausible defines it: the deepest scroll per visit (per page when grouped by
/// page), averaged and rounded; time on page from engaged time: the engaged seconds reported for
/// the page per visit that reported any.
#[tokio::test]
async fn scroll_depth_and_engaged_time_on_page() {
    let (_data, s) = server().await;
    let hit = |n: &str, path: &str, engaged: Option<(u8, u32)>| {
        let mut b = json!({"n": n, "u": format!("https://shop.test{path}"), "d": SITE, "r": null});
        if let Some((sd, ms)) = engaged {
            b["sd"] = json!(sd);
            b["e"] = json!(ms);
        }
        b
    };
    // (scroll %, engaged ms): A: /a (40, 3 s; then 70, 2 s), /b (100, 4 s). B: /a (20, 1 s).
    // C: /b without engagement.
    let sends = [
        ("1.1.1.1", hit("pageview", "/a", None)),
        ("1.1.1.1", hit("engagement", "/a", Some((40, 3000)))),
        ("1.1.1.1", hit("engagement", "/a", Some((70, 2000)))),
        ("1.1.1.1", hit("pageview", "/b", None)),
        ("1.1.1.1", hit("engagement", "/b", Some((100, 4000)))),
        ("2.2.2.2", hit("pageview", "/a", None)),
        ("2.2.2.2", hit("engagement", "/a", Some((20, 1000)))),
        ("3.3.3.3", hit("pageview", "/b", None)),
    ];
    for (ip, body) in &sends {
        plausible_event(&s, ip, body.clone()).await;
    }
    s.wait_stored(sends.len() as f64).await;

    let q = json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors", "scroll_depth", "time_on_page"],
                   "dimensions": ["event:page"], "order_by": [["event:page", "asc"]]});
    let (status, v) = query(&s, &q).await;
    assert_eq!(status, 200, "{v}");
    // Scroll: /a: A 70, B 20 -> 45; /b: A 100 (C reported nothing) -> 100.
    // Engaged time per visit that reported: /a (5 s + 1 s) / 2 = 3; /b 4 s / 1 = 4.
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("/a")], vec![json!(2), json!(45), json!(3)]),
            (vec![json!("/b")], vec![json!(2), json!(100), json!(4)])
        ]
    );

    let q = json!({"site_id": SITE, "date_range": "day", "metrics": ["scroll_depth"],
                   "filters": [["is", "event:page", ["/a"]]]});
    let (_, v) = query(&s, &q).await;
    assert_eq!(rows(&v), vec![(vec![], vec![json!(45)])], "{v}");
    // Over both pages: A's deepest is 100, B's 20 -> 60.
    let q = json!({"site_id": SITE, "date_range": "day", "metrics": ["scroll_depth"],
                   "filters": [["is", "event:page", ["/a", "/b"]]]});
    let (_, v) = query(&s, &q).await;
    assert_eq!(rows(&v), vec![(vec![], vec![json!(60)])], "{v}");

    let q = json!({"site_id": SITE, "date_range": "day", "metrics": ["scroll_depth"]});
    let (status, v) = query(&s, &q).await;
    assert_eq!(status, 400, "{v}");
}

/// `group_conversion_rate`: converting visitors over the visitors of the same source;
/// `conversion_rate` divides by all visitors.
#[tokio::test]
async fn group_conversion_rate_divides_by_the_groups_visitors() {
    let (_data, s) = server().await;
    let goal = json!({"event_name": "Signup"});
    let r = s.client.post(s.url("/api/sites/shop.test/goals")).bearer_auth(TOKEN).json(&goal).send().await.unwrap();
    assert_eq!(r.status(), 201);
    // Google: A (signs up), B. Direct: C (signs up), D, E (signs up).
    let google = Some("https://www.google.com/");
    let visits = [
        ("1.1.1.1", "2024-03-05T10:00:00Z", google, true),
        ("2.2.2.2", "2024-03-05T10:00:00Z", google, false),
        ("3.3.3.3", "2024-03-05T10:00:00Z", None, true),
        ("4.4.4.4", "2024-03-05T10:00:00Z", None, false),
        ("5.5.5.5", "2024-03-05T10:00:00Z", None, true),
    ];
    let mut sent = 0.0;
    for (ip, at, referrer, signs_up) in visits {
        let body = json!({"path": "/", "referrer": referrer, "sc_w": 1440, "timestamp": at});
        let r = s.post("/ingest", "https://shop.test", CHROME_MAC, body.to_string()).bearer_auth(TOKEN);
        assert_eq!(r.header("x-forwarded-for", ip).send().await.unwrap().status(), 202);
        sent += 1.0;
        if signs_up {
            let body = json!({"n": "Signup", "u": "/", "timestamp": "2024-03-05T10:01:00Z"});
            let r = s.post("/ingest/event", "https://shop.test", CHROME_MAC, body.to_string()).bearer_auth(TOKEN);
            assert_eq!(r.header("x-forwarded-for", ip).send().await.unwrap().status(), 202);
            sent += 1.0;
        }
    }
    s.wait_stored(sent).await;

    let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["visitors", "group_conversion_rate", "conversion_rate"],
                   "dimensions": ["visit:source", "event:goal"]});
    let (status, v) = query(&s, &q).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("Direct / None"), json!("Signup")], vec![json!(2), json!(66.67), json!(40.0)]),
            (vec![json!("Google"), json!("Signup")], vec![json!(1), json!(50.0), json!(20.0)]),
        ]
    );
    let q = json!({"site_id": SITE, "date_range": DAY, "metrics": ["group_conversion_rate"]});
    assert_eq!(query(&s, &q).await.0, 400);
}

/// `visit:entry_page_hostname` / `visit:exit_page_hostname`: the hostnames of a visit's first and
/// last pageviews, as dimensions and filters.
#[tokio::test]
async fn entry_and_exit_page_hostnames() {
    let (_data, s) = server().await;
    let view = |url: &str| json!({"n": "pageview", "u": url, "d": SITE, "r": null});
    // A: shop.test/ -> docs.shop.test/guide. B: docs.shop.test/guide. C: shop.test/pricing.
    let sends = [
        ("1.1.1.1", view("https://shop.test/")),
        ("1.1.1.1", view("https://docs.shop.test/guide")),
        ("2.2.2.2", view("https://docs.shop.test/guide")),
        ("3.3.3.3", view("https://shop.test/pricing")),
    ];
    for (ip, body) in &sends {
        plausible_event(&s, ip, body.clone()).await;
    }
    s.wait_stored(sends.len() as f64).await;

    let by = |dim: &str| json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors", "visits"], "dimensions": [dim]});
    let (status, v) = query(&s, &by("visit:entry_page_hostname")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("shop.test")], vec![json!(2), json!(2)]),
            (vec![json!("docs.shop.test")], vec![json!(1), json!(1)])
        ]
    );
    let (_, v) = query(&s, &by("visit:exit_page_hostname")).await;
    assert_eq!(
        rows(&v),
        vec![
            (vec![json!("docs.shop.test")], vec![json!(2), json!(2)]),
            (vec![json!("shop.test")], vec![json!(1), json!(1)])
        ]
    );

    // Filters keep whole visits: B's one pageview; then A's and C's three.
    let filtered = |dim: &str, host: &str| {
        json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors", "pageviews"],
               "filters": [["is", dim, [host]]]})
    };
    let (_, v) = query(&s, &filtered("visit:entry_page_hostname", "docs.shop.test")).await;
    assert_eq!(rows(&v), vec![(vec![], vec![json!(1), json!(1)])], "{v}");
    let (_, v) = query(&s, &filtered("visit:entry_page_hostname", "shop.test")).await;
    assert_eq!(rows(&v), vec![(vec![], vec![json!(2), json!(3)])], "{v}");
    let (_, v) = query(&s, &filtered("visit:exit_page_hostname", "shop.test")).await;
    assert_eq!(rows(&v), vec![(vec![], vec![json!(1), json!(1)])], "{v}");
}

/// `total_revenue` / `average_revenue` in Plausible's shape; mixed currencies are null with a
/// warning, never converted.
#[tokio::test]
async fn revenue_metrics_in_plausibles_shape() {
    let (_data, s) = server().await;
    for goal in [json!({"event_name": "Purchase"}), json!({"event_name": "Donate"})] {
        let r = s.client.post(s.url("/api/sites/shop.test/goals")).bearer_auth(TOKEN).json(&goal).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    let paid = |n: &str, amount: &str, currency: &str| json!({"n": n, "u": "https://shop.test/checkout", "d": SITE, "revenue": {"amount": amount, "currency": currency}});
    let sends = [
        ("1.1.1.1", paid("Purchase", "10.00", "USD")),
        ("2.2.2.2", paid("Purchase", "20.50", "USD")),
        ("3.3.3.3", paid("Donate", "5", "EUR")),
    ];
    for (ip, body) in &sends {
        plausible_event(&s, ip, body.clone()).await;
    }
    s.wait_stored(sends.len() as f64).await;

    let money = |value: Value, currency: &str, short: &str, long: &str| json!({"value": value, "currency": currency, "short": short, "long": long});
    let q = json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors", "total_revenue", "average_revenue"],
                   "dimensions": ["event:goal"]});
    let (status, v) = query(&s, &q).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        rows(&v),
        vec![
            (
                vec![json!("Purchase")],
                vec![
                    json!(2),
                    money(json!(30.5), "USD", "$30.50", "$30.50"),
                    money(json!(15.25), "USD", "$15.25", "$15.25")
                ]
            ),
            (
                vec![json!("Donate")],
                vec![json!(1), money(json!(5.0), "EUR", "€5.00", "€5.00"), money(json!(5.0), "EUR", "€5.00", "€5.00")]
            ),
        ]
    );
    assert!(v["meta"].get("metric_warnings").is_none(), "{v}");

    let q = json!({"site_id": SITE, "date_range": "day", "metrics": ["total_revenue"],
                   "filters": [["is", "event:goal", ["Purchase", "Donate"]]]});
    let (_, v) = query(&s, &q).await;
    assert_eq!(rows(&v), vec![(vec![], vec![Value::Null])], "{v}");
    assert_eq!(v["meta"]["metric_warnings"]["total_revenue"]["code"], "no_single_revenue_currency");
}
