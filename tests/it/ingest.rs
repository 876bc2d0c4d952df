//! Ingest over real HTTP: what lands in the database, what is dropped, what is refused.

use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn hitkeep_pageview_custom_event_and_plausible_event_land_enriched() {
    let data = DataDir::with_sites(&["shop.test"]);
    // Trust loopback as a proxy so X-Forwarded-For can carry a public client address for geo.
    let s = Server::start(&data, &["--trusted-proxies", "127.0.0.1"]);
    s.wait_ready().await;

    let r = s
        .post(
            "/ingest",
            "https://www.shop.test",
            CHROME_MAC,
            pageview(
                "/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=launch",
                Some("https://www.google.de/search?q=x"),
            ),
        )
        .header("x-forwarded-for", "8.8.8.8")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);

    let event =
        json!({"n": "signup", "p": {"plan": "pro", "seats": 3}, "r": null, "sid": "x", "tsrc": "hk.js", "tv": ""});
    let r = s
        .post("/ingest/event", "https://www.shop.test", CHROME_MAC, event.to_string())
        .header("x-forwarded-for", "8.8.8.8")
        .header("referer", "https://www.shop.test/pricing?utm_source=newsletter")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);

    // Plausible's script: compact fields, text/plain, no Origin needed (domain in the body).
    let plausible =
        r#"{"n":"pageview","u":"http://shop.test/products?ref=producthunt","d":"shop.test","r":null,"w":390}"#;
    let r = s
        .client
        .post(s.url("/api/event"))
        .header("user-agent", SAFARI_IPHONE)
        .header("content-type", "text/plain")
        .header("x-forwarded-for", "2001:4860:4860::8888")
        .body(plausible)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // Plausible's legacy script sends props as a JSON string.
    let legacy = r#"{"n":"Download","u":"https://blog.shop.test/files","d":"shop.test","r":"https://news.ycombinator.com/item?id=1","p":"{\"file\":\"a.pdf\"}"}"#;
    let r = s.client.post(s.url("/api/event")).header("user-agent", CHROME_MAC).body(legacy).send().await.unwrap();
    assert_eq!(r.status(), 202);

    s.wait_stored(4.0).await;
    s.stop();
    let rows = data.export("shop.test");
    assert_eq!(rows.len(), 4, "{rows:#?}");

    let pv = &rows[0];
    assert_eq!(pv["name"], "pageview");
    assert_eq!(pv["pathname"], "/pricing", "query string is not stored");
    assert_eq!(pv["hostname"], "shop.test");
    assert_eq!(pv["utm_source"], "newsletter");
    assert_eq!(pv["utm_medium"], "email");
    assert_eq!(pv["utm_campaign"], "launch");
    assert_eq!(pv["referrer"], "google.de/search");
    assert_eq!(pv["referrer_source"], "newsletter", "utm_source outranks the referrer, as in Plausible");
    assert_eq!(pv["channel"], "Email");
    assert_eq!(pv["browser"], "Chrome");
    assert_eq!(pv["browser_version"], "131.0");
    assert_eq!(pv["os"], "Mac");
    assert_eq!(pv["device"], "Desktop");
    assert_eq!(pv["screen"], "Desktop");
    assert_eq!(pv["language"], "en-US");
    assert_eq!(pv["country"], "US");

    let ev = &rows[1];
    assert_eq!(ev["name"], "signup");
    assert_eq!(ev["props"], json!({"plan": "pro", "seats": "3"}));
    assert_eq!(ev["pathname"], "/pricing", "event page taken from the Referer");
    assert_eq!(ev["visitor_id"], pv["visitor_id"], "same IP + UA + site = same visitor");
    assert_eq!(ev["visit_id"], pv["visit_id"], "same visit");

    let pl = &rows[2];
    assert_eq!(pl["name"], "pageview");
    assert_eq!(pl["pathname"], "/products");
    assert_eq!(pl["utm_source"], "producthunt");
    assert_eq!(pl["referrer_source"], "producthunt");
    assert_eq!(pl["browser"], "Safari");
    assert_eq!(pl["os"], "iOS");
    assert_eq!(pl["device"], "Mobile");
    assert_eq!(pl["screen"], "Mobile");
    assert_eq!(pl["country"], "US");
    assert_ne!(pl["visitor_id"], pv["visitor_id"]);
    assert_ne!(pl["visit_id"], pv["visit_id"]);

    let dl = &rows[3];
    assert_eq!(dl["name"], "Download");
    assert_eq!(dl["hostname"], "blog.shop.test", "subdomains belong to the site");
    assert_eq!(dl["props"], json!({"file": "a.pdf"}));
    assert_eq!(dl["referrer_source"], "Hacker News");
    assert_eq!(dl["channel"], "Organic Social");
    assert_eq!(dl["country"], Value::Null, "loopback has no country");
}

#[tokio::test]
async fn bots_privacy_signals_and_unknown_sites_are_dropped_and_counted() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let send = |origin: &'static str, ua: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let mut req = s.post("/ingest", origin, ua, pageview("/x", None));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    assert_eq!(send("https://shop.test", GOOGLEBOT, &[]).await.unwrap().status(), 202);
    let gpt = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
    assert_eq!(send("https://shop.test", gpt, &[]).await.unwrap().status(), 202);
    let headless =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
    assert_eq!(send("https://shop.test", headless, &[]).await.unwrap().status(), 202);
    assert_eq!(send("https://shop.test", CHROME_MAC, &[("dnt", "1")]).await.unwrap().status(), 202);
    assert_eq!(send("https://shop.test", CHROME_MAC, &[("sec-gpc", "1")]).await.unwrap().status(), 202);
    assert_eq!(
        send("https://unknown.test", CHROME_MAC, &[]).await.unwrap().status(),
        202,
        "unknown sites are not revealed"
    );
    assert_eq!(send("https://shop.test", CHROME_MAC, &[]).await.unwrap().status(), 202);

    s.wait_stored(1.0).await;
    assert_eq!(s.metric("hitkeep_ingest_dropped_total{reason=\"bot\"}").await, 2.0);
    assert_eq!(s.metric("hitkeep_ingest_dropped_total{reason=\"ai_crawler\"}").await, 1.0);
    assert_eq!(s.metric("hitkeep_ingest_dropped_total{reason=\"dnt\"}").await, 1.0);
    assert_eq!(s.metric("hitkeep_ingest_dropped_total{reason=\"gpc\"}").await, 1.0);
    assert_eq!(s.metric("hitkeep_ingest_dropped_total{reason=\"unknown_site\"}").await, 1.0);
    assert_eq!(s.metric("hitkeep_ingest_accepted_total").await, 1.0);
    assert_eq!(s.metric("hitkeep_ingest_received_total").await, 7.0);
    s.stop();
    assert_eq!(data.export("shop.test").len(), 1, "only the real visitor is stored");
}

#[tokio::test]
async fn malformed_invalid_and_oversized_bodies_get_json_errors_and_lose_nothing() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    assert_eq!(
        s.post("/ingest", "https://shop.test", CHROME_MAC, pageview("/kept-before", None))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );

    let check = |resp: reqwest::Response, status: u16, field: Option<&'static str>| async move {
        assert_eq!(resp.status(), status);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].is_string() && body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        if let Some(f) = field {
            assert_eq!(body["field"], f, "{body}");
        }
        body
    };
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, "{not json").send().await.unwrap();
    let body = check(r, 400, None).await;
    assert_eq!(body["error"], "malformed_json");
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, r#"{"referrer":null}"#).send().await.unwrap();
    check(r, 400, Some("path")).await;
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, pageview("no-slash", None)).send().await.unwrap();
    check(r, 400, Some("path")).await;
    let long = format!("/{}", "a".repeat(3000));
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, pageview(&long, None)).send().await.unwrap();
    check(r, 400, Some("path")).await;
    let r = s
        .post(
            "/ingest",
            "https://shop.test",
            CHROME_MAC,
            pageview("/x", Some(&format!("https://r.test/{}", "b".repeat(3000)))),
        )
        .send()
        .await
        .unwrap();
    check(r, 400, Some("referrer")).await;
    let props: serde_json::Map<String, Value> = (0..31).map(|i| (format!("k{i}"), json!("v"))).collect();
    let r = s
        .post("/ingest/event", "https://shop.test", CHROME_MAC, json!({"n": "e", "p": props}).to_string())
        .send()
        .await
        .unwrap();
    check(r, 400, Some("props")).await;
    let r = s
        .post("/ingest/event", "https://shop.test", CHROME_MAC, json!({"n": "e", "p": [1, 2]}).to_string())
        .send()
        .await
        .unwrap();
    check(r, 400, Some("p")).await;
    let r =
        s.post("/ingest/event", "https://shop.test", CHROME_MAC, json!({"p": {}}).to_string()).send().await.unwrap();
    check(r, 400, Some("n")).await;
    let r = s
        .client
        .post(s.url("/api/event"))
        .header("user-agent", CHROME_MAC)
        .body(r#"{"n":"pageview","d":"shop.test"}"#)
        .send()
        .await
        .unwrap();
    check(r, 400, Some("url")).await;
    let big = pageview(&format!("/{}", "c".repeat(20_000)), None);
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, big).send().await.unwrap();
    let body = check(r, 413, None).await;
    assert_eq!(body["error"], "payload_too_large");
    let r = s
        .post("/ingest/web-vitals", "https://shop.test", CHROME_MAC, json!({"n": "XYZ", "v": 1}).to_string())
        .send()
        .await
        .unwrap();
    check(r, 400, Some("n")).await;

    assert_eq!(
        s.post("/ingest", "https://shop.test", CHROME_MAC, pageview("/kept-after", None))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    s.wait_stored(2.0).await;
    assert_eq!(s.metric("hitkeep_ingest_rejected_total{reason=\"invalid\"}").await, 10.0);
    assert_eq!(s.metric("hitkeep_ingest_rejected_total{reason=\"too_large\"}").await, 1.0);
    s.stop();
    let paths: Vec<Value> = data.export("shop.test").iter().map(|r| r["pathname"].clone()).collect();
    assert_eq!(paths, vec![json!("/kept-before"), json!("/kept-after")]);
}

#[tokio::test]
async fn full_queue_answers_503_with_retry_after_and_keeps_what_it_accepted() {
    let data = DataDir::with_sites(&["shop.test"]);
    // The writer starts 3 s late, so the 5-slot queue fills.
    let s = Server::start(&data, &["--queue-capacity", "5", "--writer-start-delay-ms", "3000"]);
    let mut statuses = Vec::new();
    for i in 0..8 {
        let r =
            s.post("/ingest", "https://shop.test", CHROME_MAC, pageview(&format!("/p{i}"), None)).send().await.unwrap();
        if r.status() == 503 {
            assert!(r.headers().contains_key("retry-after"));
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"], "overloaded");
            statuses.push(503);
        } else {
            statuses.push(r.status().as_u16());
        }
    }
    assert_eq!(statuses, vec![202, 202, 202, 202, 202, 503, 503, 503]);
    let r = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503, "not ready while the queue is full");
    s.wait_stored(5.0).await;
    s.stop();
    let paths: Vec<String> =
        data.export("shop.test").iter().map(|r| r["pathname"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, vec!["/p0", "/p1", "/p2", "/p3", "/p4"]);
}

#[tokio::test]
async fn cors_reflects_origin_with_credentials_for_beacons() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let pre = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/ingest"))
        .header("origin", "https://shop.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "https://shop.test");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("content-type"));
    assert_eq!(h["access-control-max-age"], "86400");
    let post = s
        .post("/ingest/event", "https://shop.test", CHROME_MAC, json!({"n": "x"}).to_string())
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 202);
    assert_eq!(post.headers()["access-control-allow-origin"], "https://shop.test");
    assert_eq!(post.headers()["access-control-allow-credentials"], "true");
    s.stop();
}

#[tokio::test]
async fn web_vitals_are_stored_with_ratings() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--api-token", "vt"]);
    s.wait_ready().await;
    for (n, v) in [("LCP", 3100.5), ("CLS", 0.02), ("LCP", 1000.0)] {
        let body = json!({"n": n, "v": v, "p": "/pricing", "nt": "navigate", "mid": "v5-1", "sid": "s", "pid": "p"});
        let r = s.post("/ingest/web-vitals", "https://shop.test", CHROME_MAC, body.to_string()).send().await.unwrap();
        assert_eq!(r.status(), 202);
    }
    s.wait_metric("hitkeep_stored_web_vitals_total", 3.0).await;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let url = s.url(&format!("/api/sites/shop.test/web-vitals?date_range={today},{today}"));
    let summary: Value = s.client.get(url).bearer_auth("vt").send().await.unwrap().json().await.unwrap();
    assert_eq!(summary[0]["metric"], "CLS");
    assert_eq!(summary[1]["metric"], "LCP");
    assert_eq!(summary[1]["samples"], 2);
    assert_eq!(summary[1]["p75"], 2575.375, "p75 of 1000 and 3100.5, interpolated");
    assert_eq!(summary[1]["good"], 50.0);
    assert_eq!(summary[1]["needs_improvement"], 50.0);
    s.stop();
    let rows = data.export_table("shop.test", "web_vitals");
    assert_eq!(rows.len(), 3);
    assert_eq!((rows[0]["metric"].as_str(), rows[0]["rating"].as_str()), (Some("LCP"), Some("needs-improvement")));
    assert_eq!((rows[1]["metric"].as_str(), rows[1]["rating"].as_str()), (Some("CLS"), Some("good")));
    assert_eq!(rows[0]["pathname"], "/pricing");
}
