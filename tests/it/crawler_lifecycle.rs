//! The AI crawler tallies in the data lifecycle: exported with `hitkeep export --table
//! crawler-fetches`, trimmed by the site's retention like events (offline and over HTTP), and
//! another site's tallies untouched.

use serde_json::{Value, json};

use crate::harness::*;

const TOKEN: &str = "crawler-lifecycle-token";

/// (day, crawler, operator, page, fetches) rows of an export.
fn tally(rows: &[Value]) -> Vec<(String, String, String, String, u64)> {
    let s = |v: &Value| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string();
    rows.iter()
        .map(|r| (s(&r["day"]), s(&r["crawler"]), s(&r["operator"]), s(&r["pathname"]), r["fetches"].as_u64().unwrap()))
        .collect()
}

fn row(day: &str, crawler: &str, operator: &str, page: &str, n: u64) -> (String, String, String, String, u64) {
    (day.into(), crawler.into(), operator.into(), page.into(), n)
}

async fn total_fetches(s: &Server, site: &str) -> u64 {
    let path = format!("/api/sites/{site}/ai-visibility?date_range=2026-11-01,2026-11-04");
    let r = s.client.get(s.url(&path)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["total_fetches"].as_u64().unwrap_or_else(|| panic!("{v}"))
}

#[tokio::test]
async fn crawler_tallies_are_exported_and_trimmed_by_retention() {
    let data = DataDir::with_sites(&["shop.test", "blog.test"]);
    let log = checkout().join("tests/fixtures/access-logs/combined.log");
    for site in ["shop.test", "blog.test"] {
        let (ok, out, err) = cli(&[
            "import-logs",
            "--data-dir",
            data.path_str(),
            "--format",
            "combined",
            "--site",
            site,
            log.to_str().unwrap(),
        ]);
        assert!(ok && out.contains("5 AI crawler fetches imported"), "{out}{err}");
    }
    let all = [
        row("2026-11-02", "ClaudeBot", "Anthropic", "/pricing", 1),
        row("2026-11-02", "GPTBot", "OpenAI", "/blog/launch", 2),
        row("2026-11-03", "CCBot", "commoncrawl.org", "/blog/launch", 1),
        row("2026-11-03", "PerplexityBot", "Perplexity", "/docs/api", 1),
    ];
    assert_eq!(tally(&data.export_table("shop.test", "crawler-fetches")), all);

    // Seven days kept on 2026-11-10: the tallies of 2026-11-02 go, the other site keeps all.
    let (ok, _, err) = cli(&["site", "retention", "shop.test", "7", "--data-dir", data.path_str()]);
    assert!(ok, "{err}");
    let (ok, out, err) = cli(&["retention", "--now", "2026-11-10", "--data-dir", data.path_str()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("shop.test: deleted 0 events, 0 web vitals and 2 crawler tally rows before 2026-11-03T00:00:00"),
        "{out}"
    );
    assert_eq!(tally(&data.export_table("shop.test", "crawler-fetches")), all[2..]);
    assert_eq!(tally(&data.export_table("blog.test", "crawler-fetches")), all);
    let (ok, _, err) = cli(&[
        "export",
        "--site",
        "shop.test",
        "--table",
        "crawler-fetches",
        "--format",
        "csv",
        "--data-dir",
        data.path_str(),
    ]);
    assert!(!ok && err.contains("only events export as CSV"), "{err}");

    // Over HTTP: the report shows what is left; a one-day retention run takes the rest.
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    assert_eq!((total_fetches(&s, "shop.test").await, total_fetches(&s, "blog.test").await), (2, 5));
    let r = s
        .client
        .patch(s.url("/api/sites/shop.test"))
        .bearer_auth(TOKEN)
        .json(&json!({"retention_days": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = s.client.post(s.url("/api/admin/retention")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let runs: Value = r.json().await.unwrap();
    let shop = runs.as_array().unwrap().iter().find(|r| r["site"] == "shop.test").expect("shop.test ran");
    assert_eq!((shop["deleted_events"].as_u64(), shop["deleted_crawler_rows"].as_u64()), (Some(0), Some(2)), "{runs}");
    assert!(runs.as_array().unwrap().iter().all(|r| r["site"] != "blog.test"), "blog.test keeps everything: {runs}");
    assert_eq!((total_fetches(&s, "shop.test").await, total_fetches(&s, "blog.test").await), (0, 5));
    s.stop();
}
