//! Issue #13, items 4, 9 and 16 (realtime part): what a share-link holder cannot do any more -
//! take the server down with a huge hourly range, burn CPU with regular expressions, run a query
//! for ever, keep a realtime stream after the link is revoked, or open streams without bound.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{DataDir, Server, cli};

const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "operator-token-for-query-hardening";
/// Long enough for any bounded answer on a busy machine, far shorter than the unbounded ones.
const PATIENCE: Duration = Duration::from_secs(20);

/// Sets up the first admin; returns their session cookie.
async fn admin_session(s: &Server) -> String {
    let r = s
        .client
        .post(s.url("/api/setup"))
        .json(&json!({"email": "root@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    set.split(';').next().unwrap().strip_prefix("hk_session=").unwrap().to_string()
}

/// Creates a share link of `site` as the admin; returns (link id, link secret).
async fn share_link(s: &Server, admin: &str, site: &str) -> (u64, String) {
    let r = s
        .client
        .post(s.url(&format!("/api/sites/{site}/shares")))
        .header("cookie", format!("hk_session={admin}"))
        .header("origin", &s.base)
        .json(&json!({"name": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    (v["id"].as_u64().unwrap(), v["token"].as_str().unwrap().to_string())
}

/// Opens a share link like its visitor's browser; returns the access token.
async fn open_share(s: &Server, link: &str) -> String {
    let r = s.client.post(s.url(&format!("/api/share/{link}"))).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// A share-link visitor of `site` on a fresh server started with `extra` flags.
async fn shared_site(data: &DataDir, site: &str, extra: &[&str]) -> (Server, String, u64, String) {
    let s = Server::start(data, extra);
    s.wait_ready().await;
    let admin = admin_session(&s).await;
    let (id, link) = share_link(&s, &admin, site).await;
    let access = open_share(&s, &link).await;
    (s, admin, id, access)
}

/// Posts a query with `bearer`; (status, body, elapsed). Fails the test when no answer comes
/// within `PATIENCE` (the unbounded behaviour).
async fn query(s: &Server, bearer: &str, q: Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = s
        .client
        .post(s.url("/api/v2/query"))
        .bearer_auth(bearer)
        .json(&q)
        .timeout(PATIENCE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no answer within {PATIENCE:?}: {e}"));
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

async fn healthy(s: &Server) {
    let r = s.client.get(s.url("/healthz")).timeout(Duration::from_secs(1)).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_ranges_through_a_share_link_are_clamped_and_bucket_counts_bounded() {
    let data = DataDir::with_sites(&["shop.test"]);
    let (s, _admin, _, access) = shared_site(&data, "shop.test", &[]).await;

    // 1,000 years by the hour: 8.8 million buckets before; now a quick 400 naming the limit.
    let started = Instant::now();
    let (status, body, _) = query(
        &s,
        &access,
        json!({"site_id": "shop.test", "date_range": ["1100-01-01", "2100-01-01"], "metrics": ["visitors"],
               "dimensions": ["time:hour"], "include": {"time_labels": true}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_query");
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains("time:hour") && msg.contains("10000") && msg.contains("max_time_buckets"), "{msg}");
    println!("1000-year hourly query refused in {:?}", started.elapsed());
    healthy(&s).await;

    // The widest range is clamped to the years reports cover, and answered.
    let (status, body, _) = query(
        &s,
        &access,
        json!({"site_id": "shop.test", "date_range": ["0001-01-01", "9999-12-31"], "metrics": ["visitors"],
               "dimensions": ["time"], "include": {"time_labels": true}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let range = body["query"]["date_range"].as_array().unwrap();
    assert!(range[0].as_str().unwrap().starts_with("1970-01-01"), "{range:?}");
    assert!(range[1].as_str().unwrap().starts_with("2100-12-31"), "{range:?}");
    assert_eq!(body["meta"]["time_labels"].as_array().unwrap().len(), 131 * 12, "monthly buckets, 1970-2100");

    // A comparison period is bounded the same way.
    let (status, body, _) = query(
        &s,
        &access,
        json!({"site_id": "shop.test", "date_range": ["2024-01-01", "2024-01-07"], "metrics": ["visitors"],
               "dimensions": ["time:hour"], "compare": ["1970-01-01", "2024-01-01"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("comparison period"), "{body}");
    // Pages are bounded too.
    let (status, body, _) = query(
        &s,
        &access,
        json!({"site_id": "shop.test", "date_range": "7d", "metrics": ["visitors"], "pagination": {"limit": 1000000}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("10000"), "{body}");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regular_expressions_and_filter_trees_are_bounded() {
    let data = DataDir::with_sites(&["shop.test"]);
    let (s, _admin, _, access) = shared_site(&data, "shop.test", &[]).await;
    let base = |filters: Value| json!({"site_id": "shop.test", "date_range": "30d", "metrics": ["visitors"], "filters": filters});

    // 20 x \w{40} against every country name: minutes of CPU before; now refused at once.
    let heavy: Vec<&str> = vec![r"\w{40}"; 20];
    let started = Instant::now();
    let (status, body, _) = query(&s, &access, base(json!([["matches", "visit:country_name", heavy]]))).await;
    assert_eq!(status, 400, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains("regex_size_limit"), "{msg}");
    println!("regex-heavy filter refused in {:?}", started.elapsed());
    healthy(&s).await;

    // The same filter with modest patterns is answered.
    let fine: Vec<&str> = vec!["^Ger", "many$", "[a-z]+"];
    let (status, body, _) = query(&s, &access, base(json!([["matches", "visit:country_name", fine]]))).await;
    assert_eq!(status, 200, "{body}");

    // Count, length and depth limits each name themselves.
    let many: Vec<String> = (0..101).map(|i| format!("/p{i}")).collect();
    let (status, body, _) = query(&s, &access, base(json!([["is", "event:page", many]]))).await;
    assert_eq!((status, body["message"].as_str().unwrap().contains("max_filter_values")), (400, true), "{body}");
    let patterns: Vec<String> = (0..21).map(|i| format!("^/p{i}")).collect();
    let (status, body, _) = query(&s, &access, base(json!([["matches", "event:page", patterns]]))).await;
    assert_eq!((status, body["message"].as_str().unwrap().contains("max_filter_patterns")), (400, true), "{body}");
    let long = "a".repeat(5000);
    let (status, body, _) = query(&s, &access, base(json!([["contains", "event:page", [long]]]))).await;
    assert_eq!((status, body["message"].as_str().unwrap().contains("max_filter_value_length")), (400, true));
    let mut deep = json!(["is", "event:page", ["/"]]);
    for _ in 0..10 {
        deep = json!(["not", deep]);
    }
    let (status, body, _) = query(&s, &access, base(json!([deep]))).await;
    assert_eq!((status, body["message"].as_str().unwrap().contains("max_filter_depth")), (400, true), "{body}");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_deadline_is_cancelled_with_503_and_retry_after() {
    let data = DataDir::with_sites(&[]);
    let (ok, _, err) =
        cli(&["seed", "--site", "shop.test", "--events", "30000", "--days", "3", "--data-dir", data.path_str()]);
    assert!(ok, "seed: {err}");
    // A 1 ms deadline: every real query over 30,000 events runs past it.
    let s = Server::start(&data, &["--api-token", TOKEN, "--query-timeout-ms", "1"]);
    s.wait_ready().await;
    let patterns = ["^/a", "b+$", "c.*d", "(e|f)g", "[0-9]{2}", "x?y", "^/", "/$"];
    let (status, body, headers) = query(
        &s,
        TOKEN,
        json!({"site_id": "shop.test", "date_range": "7d", "metrics": ["visitors", "bounce_rate"],
               "dimensions": ["event:page"], "filters": [["matches", "event:page", patterns]]}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "query_timeout");
    assert!(body["message"].as_str().unwrap().contains("--query-timeout-ms"), "{body}");
    assert_eq!(headers["retry-after"], "5");
    healthy(&s).await;
    s.stop();

    // With the default deadline the same query is answered.
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let (status, body, _) = query(
        &s,
        TOKEN,
        json!({"site_id": "shop.test", "date_range": "7d", "metrics": ["visitors", "bounce_rate"],
               "dimensions": ["event:page"], "filters": [["matches", "event:page", patterns]]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    s.stop();
}

/// Opens a realtime stream; the response (its status tells whether it was accepted).
async fn stream(s: &Server, bearer: &str) -> reqwest::Response {
    s.client
        .get(s.url("/api/sites/shop.test/realtime"))
        .bearer_auth(bearer)
        .header("accept", "text/event-stream")
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realtime_stream_ends_when_its_share_link_is_revoked() {
    let data = DataDir::with_sites(&["shop.test"]);
    let (s, admin, id, access) = shared_site(&data, "shop.test", &["--realtime-recheck-ms", "200"]).await;
    let mut live = stream(&s, &access).await;
    assert_eq!(live.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(10), live.chunk()).await.unwrap().unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("\"visitors\":0"));

    let r = s
        .client
        .delete(s.url(&format!("/api/sites/shop.test/shares/{id}")))
        .header("cookie", format!("hk_session={admin}"))
        .header("origin", &s.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Before: the stream stayed open (keep-alives every 15 s) for as long as the client liked.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "the stream is still open 10 s after the link was revoked");
        match tokio::time::timeout(Duration::from_secs(1), live.chunk()).await {
            Ok(Ok(None)) | Ok(Err(_)) => break,
            _ => {}
        }
    }
    assert_eq!(stream(&s, &access).await.status(), 401, "and it cannot be reopened");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_streams_are_capped_per_caller_and_in_total() {
    let data = DataDir::with_sites(&["shop.test"]);
    let (s, _admin, _, access) =
        shared_site(&data, "shop.test", &["--api-token", TOKEN, "--max-realtime-streams", "5"]).await;
    let mut open = Vec::new();
    for i in 0..4 {
        let r = stream(&s, &access).await;
        assert_eq!(r.status(), 200, "stream {}", i + 1);
        open.push(r);
    }
    let fifth = stream(&s, &access).await;
    assert_eq!(fifth.status(), 429);
    assert!(fifth.headers().contains_key("retry-after"));
    let body: Value = fifth.json().await.unwrap();
    assert_eq!(body["error"], "too_many_streams");
    assert!(body["message"].as_str().unwrap().contains("--max-realtime-streams-per-caller"), "{body}");

    // Another caller may still open one, up to the server's total.
    let other = stream(&s, TOKEN).await;
    assert_eq!(other.status(), 200);
    let over = stream(&s, TOKEN).await;
    assert_eq!(over.status(), 503);
    let body: Value = over.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("--max-realtime-streams"), "{body}");

    // A closed stream gives its place back.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let again = stream(&s, &access).await;
        if again.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the place of a closed stream was not given back");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(open);
    drop(other);
    s.stop();
}
