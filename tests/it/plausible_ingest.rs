//! Ingest as Plausible's script and Events API send it: engagement reports stored apart from
//! events, pageview props kept, revenue validated and stored exactly, Plausible's browser / OS /
//! country names.

use serde_json::{Value, json};

use crate::harness::*;

const TOKEN: &str = "plausible-token";
const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAMSUNG: &str = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36";
const EDGE_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";

async fn server() -> (DataDir, Server) {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN, "--trusted-proxies", "127.0.0.1"]);
    s.wait_ready().await;
    (data, s)
}

async fn query(s: &Server, q: Value) -> Value {
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(&q).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn engagement_is_no_event_and_pageview_props_are_kept() {
    let (data, s) = server().await;
    let page = |n: &str, extra: Value| {
        let mut b = json!({"n": n, "u": "https://shop.test/blog/post", "d": "shop.test", "r": null});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    // One visit: a pageview with props, then two engagement reports (hidden tab, then leaving).
    let (st, body) = plausible(&s, CHROME_MAC, "8.8.8.8", page("pageview", json!({"p": {"author": "ann"}}))).await;
    assert_eq!(st, 202, "{body}");
    for (sd, e) in [(60, 3000), (80, 1500)] {
        let (st, body) =
            plausible(&s, CHROME_MAC, "8.8.8.8", page("engagement", json!({"sd": sd, "e": e, "p": {"author": "ann"}})))
                .await;
        assert_eq!(st, 202, "{body}");
    }
    // hk.js sends engagement to its own endpoint in the same shape.
    let hk = json!({"n": "engagement", "u": "/blog/post", "sd": 85, "e": 700});
    let r =
        s.post("/ingest/event", "https://shop.test", CHROME_MAC, hk.to_string()).header("x-forwarded-for", "8.8.8.8");
    assert_eq!(r.send().await.unwrap().status(), 202);
    s.wait_stored(4.0).await;

    let today = json!({"site_id": "shop.test", "date_range": "day"});
    let mut q = today.clone();
    q["metrics"] = json!(["visitors", "visits", "pageviews", "events", "bounce_rate"]);
    let v = query(&s, q).await;
    assert_eq!(rows(&v), vec![(vec![], vec![json!(1), json!(1), json!(1), json!(1), json!(100)])], "{v}");

    let mut q = today.clone();
    q["metrics"] = json!(["visitors", "events"]);
    q["dimensions"] = json!(["event:name"]);
    let v = query(&s, q).await;
    assert_eq!(rows(&v), vec![(vec![json!("pageview")], vec![json!(1), json!(1)])], "no engagement in {v}");

    s.stop();
    let events = data.export("shop.test");
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["name"], "pageview");
    assert_eq!(events[0]["props"], json!({"author": "ann"}), "pageview props are kept");
    let engagements = data.export_table("shop.test", "engagements");
    let got: Vec<(Value, Value, Value)> = engagements
        .iter()
        .map(|e| (e["pathname"].clone(), e["scroll_depth"].clone(), e["engaged_ms"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("/blog/post"), json!(60), json!(3000)),
            (json!("/blog/post"), json!(80), json!(1500)),
            (json!("/blog/post"), json!(85), json!(700)),
        ]
    );
    for e in &engagements {
        assert_eq!(e["visit_id"], events[0]["visit_id"], "engagement joins the pageview's visit");
        assert_eq!(e["visitor_id"], events[0]["visitor_id"]);
    }
}

#[tokio::test]
async fn pageview_props_break_down_like_custom_event_props() {
    let (_data, s) = server().await;
    for (ip, author) in [("8.8.8.8", "ann"), ("8.8.4.4", "bob"), ("1.1.1.1", "ann")] {
        let body = json!({"n": "pageview", "u": "https://shop.test/post", "d": "shop.test", "p": {"author": author}});
        assert_eq!(plausible(&s, CHROME_MAC, ip, body).await.0, 202);
    }
    s.wait_stored(3.0).await;
    let v = query(
        &s,
        json!({"site_id": "shop.test", "date_range": "day", "metrics": ["visitors", "pageviews"],
               "dimensions": ["event:props:author"]}),
    )
    .await;
    assert_eq!(
        rows(&v),
        vec![(vec![json!("ann")], vec![json!(2), json!(2)]), (vec![json!("bob")], vec![json!(1), json!(1)])],
        "{v}"
    );
}

#[tokio::test]
async fn revenue_is_validated_and_stored_exactly() {
    let (data, s) = server().await;
    let purchase = |revenue: Value| json!({"n": "Purchase", "u": "https://shop.test/checkout", "d": "shop.test", "revenue": revenue});
    for (revenue, want) in [
        (json!({"amount": "19.99", "currency": "eur"}), 202),
        (json!({"amount": 5, "currency": "USD"}), 202),
        (json!({"amount": "10", "currency": "XYZ"}), 400),
        (json!({"amount": "ten", "currency": "EUR"}), 400),
        (json!({"amount": "1,50", "currency": "EUR"}), 400),
        (json!({"currency": "EUR"}), 400),
    ] {
        let (st, body) = plausible(&s, CHROME_MAC, "8.8.8.8", purchase(revenue.clone())).await;
        assert_eq!(st, want, "{revenue} -> {body}");
    }
    // hk.event(name, props, {revenue}) posts it to /ingest/event.
    let hk =
        json!({"n": "Upgrade", "p": {"plan": "pro"}, "u": "/billing", "revenue": {"amount": 12.5, "currency": "CHF"}});
    let r =
        s.post("/ingest/event", "https://shop.test", CHROME_MAC, hk.to_string()).header("x-forwarded-for", "8.8.8.8");
    assert_eq!(r.send().await.unwrap().status(), 202);
    s.wait_stored(3.0).await;
    s.stop();
    let got: Vec<(Value, Value, Value)> = data
        .export("shop.test")
        .iter()
        .map(|e| (e["name"].clone(), e["revenue_amount"].clone(), e["revenue_currency"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("Purchase"), json!("19.990"), json!("EUR")),
            (json!("Purchase"), json!("5.000"), json!("USD")),
            (json!("Upgrade"), json!("12.500"), json!("CHF")),
        ]
    );
}

#[tokio::test]
async fn browsers_systems_and_countries_carry_plausibles_names() {
    let (data, s) = server().await;
    for (ua, ip) in
        [(FIREFOX_LINUX, "8.8.8.8"), (SAMSUNG, "8.8.8.8"), (EDGE_WINDOWS, "8.8.8.8"), (SAFARI_IPHONE, "8.8.8.8")]
    {
        let body = json!({"n": "pageview", "u": "https://shop.test/", "d": "shop.test"});
        assert_eq!(plausible(&s, ua, ip, body).await.0, 202);
    }
    s.wait_stored(4.0).await;
    let v = query(
        &s,
        json!({"site_id": "shop.test", "date_range": "day", "metrics": ["visitors"], "dimensions": ["visit:country_name"]}),
    )
    .await;
    assert_eq!(rows(&v), vec![(vec![json!("United States")], vec![json!(4)])], "{v}");
    s.stop();
    let got: Vec<(Value, Value, Value)> =
        data.export("shop.test").iter().map(|e| (e["browser"].clone(), e["os"].clone(), e["device"].clone())).collect();
    assert_eq!(
        got,
        vec![
            (json!("Firefox"), json!("GNU/Linux"), json!("Desktop")),
            (json!("Samsung Browser"), json!("Android"), json!("Mobile")),
            (json!("Microsoft Edge"), json!("Windows"), json!("Desktop")),
            (json!("Safari"), json!("iOS"), json!("Mobile")),
        ]
    );
}
