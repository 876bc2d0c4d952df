//! Start-up, shutdown and crash behaviour, the CLI, and static files.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::harness::*;

#[tokio::test]
async fn graceful_shutdown_under_load_loses_no_acknowledged_hit() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &["--batch-size", "200"]);
    s.wait_ready().await;
    let acknowledged = Arc::new(AtomicU64::new(0));
    let mut senders = Vec::new();
    for worker in 0..8 {
        let (client, url, acked) = (s.client.clone(), s.url("/ingest"), acknowledged.clone());
        senders.push(tokio::spawn(async move {
            for i in 0..100_000u32 {
                let req = client
                    .post(&url)
                    .header("origin", "https://shop.test")
                    .header("user-agent", CHROME_MAC)
                    .header("x-forwarded-for", format!("10.0.{worker}.{}", i % 250))
                    .body(pageview(&format!("/w{worker}/{i}"), None));
                match req.send().await {
                    Ok(r) if r.status() == 202 => {
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => assert_eq!(r.status(), 503, "only overload may refuse"),
                    Err(_) => return, // the server stopped listening
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = s.child.id();
    let mid_load = acknowledged.load(Ordering::SeqCst);
    assert!(mid_load > 100, "load is flowing ({mid_load} hits so far)");
    s.stop();
    for t in senders {
        t.await.unwrap();
    }
    let acked = acknowledged.load(Ordering::SeqCst);
    let stored = data.export("shop.test").len() as u64;
    eprintln!("pid {pid}: acknowledged {acked}, stored {stored}");
    assert_eq!(stored, acked, "every 202 is a stored row");
}

#[tokio::test]
async fn after_kill_9_the_database_reopens_and_keeps_flushed_hits() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    for i in 0..50 {
        let r =
            s.post("/ingest", "https://shop.test", CHROME_MAC, pageview(&format!("/k{i}"), None)).send().await.unwrap();
        assert_eq!(r.status(), 202);
    }
    s.wait_stored(50.0).await;
    s.kill9();

    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, pageview("/after-restart", None)).send().await.unwrap();
    assert_eq!(r.status(), 202);
    s.wait_stored(1.0).await;
    s.stop();
    let rows = data.export("shop.test");
    assert_eq!(rows.len(), 51, "the 50 committed before the crash survive, plus the new one");
    assert_eq!(rows[50]["pathname"], "/after-restart");
    assert_eq!(rows[50]["visit_id"], rows[0]["visit_id"], "the visit continues across the restart");
}

#[tokio::test]
async fn site_cli_adds_lists_and_refuses_a_locked_data_directory() {
    let data = DataDir::with_sites(&[]);
    let (ok, out, _) = cli(&["site", "list", "--data-dir", data.path_str()]);
    assert!(ok);
    assert!(out.contains("no sites yet"));
    let (ok, out, err) =
        cli(&["site", "add", "https://www.Example.com/", "--timezone", "Europe/Berlin", "--data-dir", data.path_str()]);
    assert!(ok, "{err}");
    assert!(out.contains("example.com"));
    let (ok, _, err) = cli(&["site", "add", "example.com", "--data-dir", data.path_str()]);
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = cli(&["site", "add", "bad domain", "--data-dir", data.path_str()]);
    assert!(!ok);
    assert!(err.contains("invalid domain"), "{err}");
    let (ok, _, err) = cli(&["site", "add", "x.test", "--timezone", "Mars/Base", "--data-dir", data.path_str()]);
    assert!(!ok);
    assert!(err.contains("time zone"), "{err}");
    let (ok, out, _) = cli(&["site", "list", "--data-dir", data.path_str()]);
    assert!(ok);
    assert!(out.contains("example.com\tEurope/Berlin"), "{out}");

    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let (ok, _, err) = cli(&["site", "add", "other.test", "--data-dir", data.path_str()]);
    assert!(!ok);
    assert!(err.contains("running hitkeep server"), "{err}");
    s.stop();
}

#[tokio::test]
async fn health_readiness_metrics_and_tracker_script() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let health = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value = s.client.get(s.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["ready"], true);
    let metrics = s.client.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for series in [
        "hitkeep_queue_depth",
        "hitkeep_flush_seconds_bucket",
        "hitkeep_batch_size_last",
        "hitkeep_ingest_dropped_total",
    ] {
        assert!(metrics.contains(series), "{series} missing");
    }

    let js = s.client.get(s.url("/hk.js")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert!(js.headers()["cache-control"].to_str().unwrap().contains("max-age="));
    let etag = js.headers()["etag"].to_str().unwrap().to_string();
    assert!(!js.bytes().await.unwrap().is_empty());
    let again = s.client.get(s.url("/hk.js")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    s.stop();
}

#[test]
fn committed_openapi_spec_matches_the_code() {
    let (ok, generated, err) = cli(&["openapi"]);
    assert!(ok, "{err}");
    let committed = std::fs::read_to_string(crate::harness::checkout().join("openapi/openapi.json"))
        .expect("openapi/openapi.json is committed");
    assert_eq!(committed.trim(), generated.trim(), "openapi/openapi.json is stale: run `make openapi`");
}

#[test]
fn help_serve_explains_every_setting() {
    let (ok, out, _) = cli(&["help", "serve"]);
    assert!(ok);
    for flag in [
        "--http",
        "--data-dir",
        "--queue-capacity",
        "--batch-size",
        "--batch-interval-ms",
        "--trusted-proxies",
        "--duckdb-memory-limit",
        "--duckdb-threads",
        "--log-level",
        "--log-format",
        "HITKEEP_HTTP",
    ] {
        assert!(out.contains(flag), "{flag} missing from `hitkeep help serve`");
    }
}
